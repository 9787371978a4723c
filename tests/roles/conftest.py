"""The account tests' fixtures: apps with their own settings and a real SMTP server."""

from tests.auth.conftest import mail_app, mailbox, make_app, smtp_server

__all__ = ["mail_app", "mailbox", "make_app", "smtp_server"]
