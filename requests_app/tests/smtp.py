"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

import asyncio
import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self):
        self.messages = []
        self.refused = set()  # recipients answered "550", as for an unknown mailbox
        self.delay_s = 0  # how long the server takes to accept each message

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802  (aiosmtpd's hook name)
        if address in self.refused:
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        await asyncio.sleep(self.delay_s)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted"

    def recipients(self):
        return [address for recipients, _message in self.messages for address in recipients]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(name="smtp_server")
def smtp_server_fixture(settings):
    """Point Django's SMTP backend at a local aiosmtpd server; yields its Mailbox."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    mailbox.port = controller.port
    try:
        yield mailbox
    finally:
        controller.stop()
