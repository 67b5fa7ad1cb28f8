"""Sending e-mail through the configured SMTP server (CONSENT_SMTP_*): one way for every
domain (the idea team's and citizens' mail, statistics reports, scanner notices)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app

SMTP_TIMEOUT_SECONDS = 10


def mail_enabled() -> bool:
    """Whether an SMTP server is configured; without one, nothing is sent."""
    return bool(current_app.config.get("SMTP_HOST"))


def send(mail: EmailMessage, to: str) -> None:
    """Deliver to exactly one recipient, whatever the headers say.

    Raises OSError or smtplib.SMTPException when the server cannot be reached or refuses;
    callers decide whether to retry later.
    """
    config = current_app.config
    host, port, security = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_SECURITY"]
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=context)
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(mail, to_addrs=[to])
