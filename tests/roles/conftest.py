"""The account tests' fixtures: apps with their own settings and a real SMTP server."""

from tests.auth.conftest import make_app, smtp_server

__all__ = ["make_app", "smtp_server"]
