"""Outgoing mail. Without MAIL_SERVER, messages are written to the log (and, under TESTING, kept in
`app.extensions["qready.outbox"]` so tests can follow links)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app, render_template

log = logging.getLogger("qready.mail")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def init_app(app: Flask) -> None:
    app.extensions["qready.outbox"] = []


def send(to: str, subject: str, template: str, **context: object) -> Mail:
    body = render_template(f"email/{template}.txt", **context)
    message = Mail(to=to, subject=subject, body=body)
    cfg = current_app.config
    if cfg.get("MAIL_SERVER"):
        _smtp(message)
    else:
        log.info("mail to %s: %s\n%s", to, subject, body)
    if cfg.get("TESTING"):
        current_app.extensions["qready.outbox"].append(message)
    return message


def _smtp(message: Mail) -> None:
    cfg = current_app.config
    msg = EmailMessage()
    msg["From"] = cfg["MAIL_FROM"]
    msg["To"] = message.to
    msg["Subject"] = message.subject
    msg.set_content(message.body)
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(msg)
