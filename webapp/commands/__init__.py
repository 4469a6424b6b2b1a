"""CLI commands, attached to the app in `create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from webapp.commands.db import db_cli
    from webapp.commands.demo import demo

    app.cli.add_command(db_cli)
    app.cli.add_command(demo)
    try:
        from webapp.commands.frameworks import frameworks
    except ImportError:  # pragma: no cover - the module lands with the criteria library
        return
    app.cli.add_command(frameworks)
