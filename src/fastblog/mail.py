"""Outgoing email over async SMTP; with no SMTP server configured, to the log."""

import logging
from email.message import EmailMessage

import aiosmtplib

from fastblog.config import Settings

logger = logging.getLogger(__name__)


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, *, to: str, subject: str, body: str) -> None:
        """Send, or log the message when SMTP is not configured. Never raises:
        it runs after the response, where nobody could handle the error."""
        settings = self.settings
        if not settings.smtp_host:
            logger.warning("No SMTP_HOST set; email to %s (%s):\n%s", to, subject, body)
            return
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=password,
                start_tls=settings.smtp_starttls,
                timeout=10,
            )
        except (aiosmtplib.SMTPException, OSError):
            logger.exception("Could not send email to %s via %s", to, settings.smtp_host)
