"""What is read before a write can be gone by the write: a post taken back to draft between
the commenter's check and the INSERT, a comment deleted between its approval and the read
back. The statements answer "nothing", which the service turns into a 404, never a 500."""

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.comments import queries
from fastblog.comments.models import APPROVED, Comment
from fastblog.posts.models import Post
from fastblog.resources import Resources

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


async def test_a_comment_on_a_post_unpublished_since_the_check_writes_nothing(
    resources: Resources,
    client: httpx.AsyncClient,
    session: AsyncSession,
    post: Post,
    reader: User,
) -> None:
    commenter = await queries.fetch_commenter(
        resources.database,
        user_id=reader.id,
        auth_version=reader.auth_version,
        post_id=post.id,
        now=NOW,
    )
    assert commenter is not None
    assert commenter["post_open"]
    post.status, post.published_at = "draft", None  # by its author, between the two
    await session.commit()

    values = {
        "body": "First!",
        "body_html": "<p>First!</p>",
        "created_at": NOW,
        "status": APPROVED,
        "user_id": reader.id,
        "auth_version": reader.auth_version,
    }
    inserted = await queries.insert_comment(
        resources.database, values=values, post_id=post.id, now=NOW
    )

    assert inserted is None
    assert await session.scalar(select(func.count()).select_from(Comment)) == 0


async def test_a_comment_deleted_since_its_approval_reads_back_as_none(
    resources: Resources, client: httpx.AsyncClient, session: AsyncSession, post: Post
) -> None:
    comment = Comment(body="Hi", body_html="<p>Hi</p>", post_id=post.id, user_id=post.user_id)
    session.add(comment)
    await session.commit()
    comment_id = comment.id
    shown = await queries.fetch_one_comment(resources.database, comment_id=comment_id)
    assert shown is not None
    assert shown["body_html"] == "<p>Hi</p>"

    await session.delete(comment)
    await session.commit()

    assert await queries.fetch_one_comment(resources.database, comment_id=comment_id) is None
