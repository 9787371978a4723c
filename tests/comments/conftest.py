import pytest

from fastblog.resources import Resources
from tests.comments.moderation import SetMode, set_comments_mode


@pytest.fixture
def comments_mode(resources: Resources, monkeypatch: pytest.MonkeyPatch) -> SetMode:
    return set_comments_mode(resources, monkeypatch)
