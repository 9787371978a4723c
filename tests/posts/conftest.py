"""The posts' tests use the account tests' apps (several apps on one database)."""

from tests.auth.conftest import make_app

__all__ = ["make_app"]
