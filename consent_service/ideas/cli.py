"""`consent-service ideas ...`: the team's digest and the citizens' queued receipts."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from consent_service.ideas import mail, notify, receipts

ideas_group = click.Group("ideas", help="The idea widget's mail: team digests, receipts.")


def _mail_ready() -> None:
    """Refuse to run without an SMTP server or the public address that links need."""
    if not mail.mail_enabled():
        click.echo("error: CONSENT_SMTP_HOST is not set; nothing can be sent", err=True)
        sys.exit(2)
    if not current_app.config.get("PUBLIC_URL"):
        click.echo("error: CONSENT_PUBLIC_URL is needed for the links in the mail", err=True)
        sys.exit(2)


@ideas_group.command("digest")
@with_appcontext
def digest() -> None:
    """Send each subscribed team member the new ideas since their last digest (once a period)."""
    _mail_ready()
    run = notify.send_digests()
    click.echo(run.summary())
    sys.exit(1 if run.failed else 0)


@ideas_group.command("send-mail")
@with_appcontext
def send_mail() -> None:
    """Send the citizens' receipts that are due (those that failed after submission)."""
    _mail_ready()
    delivered = receipts.deliver_receipts()
    click.echo(delivered.summary())
