"""The post's author, a reader and the post (tests/factories.py); the comment mode; apps with
their own settings and a real SMTP server (tests/auth/conftest.py)."""

import pytest

from fastblog.resources import Resources
from tests.auth.conftest import make_app, smtp_server
from tests.comments.moderation import SetMode, set_comments_mode
from tests.factories import author, post, reader

__all__ = ["author", "comments_mode", "make_app", "post", "reader", "smtp_server"]


@pytest.fixture
def comments_mode(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> SetMode:
    return set_comments_mode(resources, monkeypatch)
