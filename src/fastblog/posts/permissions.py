"""Who may write, publish, change and delete which posts, by role (fastblog.accounts.roles).

A contributor writes drafts and submits them for review; an author publishes, changes and
deletes their own posts; an editor (and above) anyone's, and publishes posts in review. A
reader writes no posts. The API and the pages ask the same functions, which raise
ForbiddenError with a message that says what is missing."""

from datetime import datetime
from typing import Any

from fastblog.accounts.roles import Role, at_least
from fastblog.exceptions import ForbiddenError
from fastblog.posts.models import PUBLISHED
from fastblog.posts.queries import is_visible

READERS_DO_NOT_WRITE = (
    "Readers cannot write posts. An admin can make you a contributor or an author."
)
CONTRIBUTORS_DO_NOT_PUBLISH = (
    "Contributors cannot publish: save the post as a draft or submit it for review, "
    "and an editor publishes it."
)
NOT_YOURS_TO_CHANGE = "Only the post's author or an editor can change this post."
NOT_YOURS_TO_DELETE = "Only the post's author or an editor can delete this post."
PUBLISHED_IS_FOR_EDITORS = (
    "This post is published: only an editor can change it now (contributors change drafts)."
)


def may_see(post: dict[str, Any], viewer_id: int | None, role: str | None, now: datetime) -> bool:
    """Readers see published posts whose time has come; the author and editors see all."""
    if is_visible(post, now) or (viewer_id is not None and post["user_id"] == viewer_id):
        return True
    return role is not None and at_least(role, Role.EDITOR)


def check_write(role: str, status: str) -> None:
    """May someone of `role` save one of their own posts with `status` (draft, review,
    published)?"""
    if not at_least(role, Role.CONTRIBUTOR):
        raise ForbiddenError(READERS_DO_NOT_WRITE)
    if status == PUBLISHED and not at_least(role, Role.AUTHOR):
        raise ForbiddenError(CONTRIBUTORS_DO_NOT_PUBLISH, field="status")


def check_edit(post: dict[str, Any], *, user_id: int, role: str, status: str | None) -> None:
    """May this user change the post, and give it `status` (None: keep its status)?"""
    if at_least(role, Role.EDITOR):
        return
    if post["user_id"] != user_id:
        raise ForbiddenError(NOT_YOURS_TO_CHANGE)
    if not at_least(role, Role.AUTHOR) and post["status"] == PUBLISHED:
        raise ForbiddenError(PUBLISHED_IS_FOR_EDITORS)
    check_write(role, status or post["status"])


def check_delete(*, author_id: int, user_id: int, role: str) -> None:
    """Your own posts, whatever your role now; anyone's for an editor and above."""
    if author_id != user_id and not at_least(role, Role.EDITOR):
        raise ForbiddenError(NOT_YOURS_TO_DELETE)
