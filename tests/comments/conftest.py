"""The post's author, a reader and the post, shared with tests/social (tests/factories.py);
and `comments_mode`, which sets the site's comment mode for one test."""

import pytest

from fastblog.resources import Resources
from tests.comments.moderation import SetMode, set_comments_mode
from tests.factories import author, post, reader

__all__ = ["author", "comments_mode", "post", "reader"]


@pytest.fixture
def comments_mode(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> SetMode:
    return set_comments_mode(resources, monkeypatch)
