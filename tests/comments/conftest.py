"""The post's author, a reader and the post, shared with tests/social (tests/factories.py)."""

from tests.factories import author, post, reader

__all__ = ["author", "post", "reader"]
