"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.helpers.servers import free_port


class Mailbox:
    """Every delivered message with its envelope recipients, in order of arrival."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []
        # The same with the envelope's sender (MAIL FROM) first.
        self.envelopes: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        raw = content if isinstance(content, bytes) else content.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append((list(envelope.rcpt_tos), message))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.mails if rcpt == [address]]

    def wait_for(self, address: str) -> EmailMessage:
        """The first mail to `address`; one sent after a response may still be on its way."""
        for _ in range(200):
            if found := self.to(address):
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no mail to {address}")


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """The mailbox and the port its server listens on at 127.0.0.1."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()
