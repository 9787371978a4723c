"""The newsletter's tests use the account tests' apps and real SMTP server."""

from tests.auth.conftest import make_app, smtp_server

__all__ = ["make_app", "smtp_server"]
