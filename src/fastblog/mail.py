"""Outgoing email over async SMTP; with no SMTP server configured, to the log."""

import asyncio
import contextlib
import email.policy
import logging
import secrets
import socket
from collections.abc import AsyncIterator
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage

import aiosmtplib

from fastblog.config import Settings

logger = logging.getLogger(__name__)

# How long one message may take to hand over (connect, each command, the data). The outbox's
# lease (OUTBOX_LEASE_SECONDS) must be longer, or a slow send could be claimed twice.
SEND_TIMEOUT_SECONDS = 10


class OneClassPerHeader(HeaderRegistry):
    """The email package's header registry, but making each header's class once.

    HeaderRegistry makes a new class (`type(...)`) every time a header is set or its
    `max_count` is looked up: ~30 classes per mail, each a reference cycle only the garbage
    collector frees. Sending a newsletter, they made most of the collector's work: a
    collection every few hundred mails that held the event loop for ~90 ms. The classes it
    makes for one name are interchangeable (no state of their own), so one per name is kept.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


# email.policy.default (what EmailMessage uses) with the registry above.
POLICY = email.policy.default.clone(header_factory=OneClassPerHeader())


class MailNotSentError(Exception):
    """The SMTP server could not be reached or refused the message; worth trying again later."""


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local_hostname: str | None = None

    async def local_hostname(self) -> str:
        """This host's name for EHLO, looked up once. Left to aiosmtplib, every connection
        calls socket.getfqdn(), a blocking resolver call on the event loop (here ~6 ms the
        first time; on a host whose reverse DNS is slow, as long as the resolver's timeout)."""
        if self._local_hostname is None:
            # A blocking resolver call: in a thread, once per process.
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        return self._local_hostname

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator["MailConnection"]:
        """One SMTP connection for several mails in a row, closed at the end of the block."""
        connection = MailConnection(self)
        try:
            yield connection
        finally:
            await connection.close()

    async def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        html: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """One mail on a connection of its own (see MailConnection.send)."""
        async with self.connection() as connection:
            await connection.send(to=to, subject=subject, body=body, html=html, headers=headers)


class MailConnection:
    """Mails handed over one after another on one SMTP connection: opened by the first mail,
    and again by the next one after a mail failed (a failed connection is never reused)."""

    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer
        self.settings = mailer.settings
        self._client: aiosmtplib.SMTP | None = None

    async def send(
        self,
        *,
        to: str,
        subject: str,
        body: str,
        html: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Hand the message to the SMTP server, or log it when SMTP is not configured. With
        `html`, a multipart/alternative mail: the plain text first, the HTML part after.

        Raises MailNotSentError when the server is unreachable or refuses the message:
        the outbox (fastblog.outbox) keeps it and tries again.
        """
        settings = self.settings
        if not settings.smtp_host:
            logger.warning("No SMTP_HOST set; email to %s (%s):\n%s", to, subject, body)
            return
        message = build_message(
            sender=settings.mail_from, to=to, subject=subject, body=body, html=html, headers=headers
        )
        try:
            client = self._client or await self._connect()
            await client.send_message(message, timeout=SEND_TIMEOUT_SECONDS)
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Whatever state the failure left the session in, the next mail starts afresh.
            await self.close()
            # The reason only: the message itself (a reset link) never goes to the log.
            reason = str(exc) or type(exc).__name__
            raise MailNotSentError(f"via {settings.smtp_host}: {reason}") from exc

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self.settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            start_tls=settings.smtp_starttls,
            timeout=SEND_TIMEOUT_SECONDS,
            local_hostname=await self.mailer.local_hostname(),
        )
        await client.connect()  # STARTTLS and the login too, when configured
        self._client = client
        return client

    async def close(self) -> None:
        """QUIT and close; a server that went away meanwhile changes nothing for the mails."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            await client.quit(timeout=SEND_TIMEOUT_SECONDS)
        except (aiosmtplib.SMTPException, OSError):
            client.close()


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """The message: plain text, or with `html` multipart/alternative (the text part first)."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
        # Set here rather than when the message is flattened: aiosmtplib flattens under
        # email.policy.SMTP, whose registry would make a class for Content-Type again.
        # Random, so no text can contain it (as the email package's own boundary).
        message.set_boundary(f"=_{secrets.token_hex(20)}")
    return message
