"""CLI commands, attached to the app in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from webapp.commands.audit import audit
    from webapp.commands.db import db_cli
    from webapp.commands.demo import demo
    from webapp.commands.digest import digest
    from webapp.commands.frameworks import frameworks
    from webapp.commands.privacy import privacy
    from webapp.commands.report import report
    from webapp.commands.scoring import rescore, score
    from webapp.commands.tokens import tokens

    for command in (audit, db_cli, demo, digest, frameworks, score, rescore, report, tokens, privacy):
        app.cli.add_command(command)
