"""What is read before a write can be gone by the write: a post taken back to draft between
the commenter's check and the INSERT, a comment deleted between its approval and the read
back. The statements answer "nothing", which the service turns into a 404, never a 500."""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.comments import queries
from fastblog.comments.models import APPROVED, PENDING, Comment
from fastblog.posts.models import Post
from fastblog.resources import Resources
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.comments.helpers import api_comment, make_comments
from tests.comments.moderation import make_role
from tests.conftest import make_settings, reset_database_at
from tests.factories import login, make_posts, make_user

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


# Another writer, played by the database: a trigger on a database of the test's own (one in
# the worker's shared database would change the schema under the connections other tests'
# apps hold open). The approval's UPDATE deletes the row: the approval commits and the read
# back finds nothing.
DELETED_ONCE_APPROVED = {
    "sqlite": [
        "CREATE TRIGGER deleted_once_approved AFTER UPDATE OF status ON comments"
        " BEGIN DELETE FROM comments WHERE id = NEW.id; END"
    ],
    "postgresql": [
        "CREATE FUNCTION delete_comment() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN DELETE FROM comments WHERE id = NEW.id; RETURN NULL; END $$",
        "CREATE TRIGGER deleted_once_approved AFTER UPDATE OF status ON comments"
        " FOR EACH ROW EXECUTE FUNCTION delete_comment()",
    ],
}
# The new comment's INSERT writes no row, as when the post was taken back to draft or closed
# between the commenter's check and the INSERT (its SELECT then finds no open post).
NOT_WRITTEN = {
    "sqlite": [
        "CREATE TRIGGER not_written BEFORE INSERT ON comments BEGIN SELECT RAISE(IGNORE); END"
    ],
    "postgresql": [
        "CREATE FUNCTION skip_comment() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN NULL; END $$",
        "CREATE TRIGGER not_written BEFORE INSERT ON comments"
        " FOR EACH ROW EXECUTE FUNCTION skip_comment()",
    ],
}


@contextlib.asynccontextmanager
async def app_with_trigger(
    database_url: str, media_dir: Path, trigger: dict[str, list[str]]
) -> AsyncIterator[tuple[Resources, httpx.AsyncClient]]:
    """An app on `database_url` (emptied) once `trigger` is made there, and its client."""
    await reset_database_at(database_url)
    app = create_app(make_settings(database_url, media_dir))
    async with started(app) as resources:
        engine = resources.database.engine
        async with engine.begin() as connection:
            for statement in trigger[engine.dialect.name]:
                await connection.execute(text(statement))
        transport = asgi_transport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield resources, client


async def test_a_comment_deleted_just_after_its_approval_is_a_404_to_the_moderator(
    own_database_url: str, tmp_path: Path
) -> None:
    trigger = DELETED_ONCE_APPROVED
    async with app_with_trigger(own_database_url, tmp_path / "media", trigger) as (
        resources,
        client,
    ):
        async with resources.database.session() as session:
            writer = await make_user(session, username="writer")
            editor = await make_role(session, Role.EDITOR)
            (post,) = await make_posts(session, writer, 1)
            (comment,) = await make_comments(session, post, writer, 1, status=PENDING)
        response = await client.post(
            f"/api/comments/{comment.id}/approve", headers=await login(client, editor)
        )

    assert (response.status_code, response.json()) == (404, {"detail": "Comment not found"})


async def test_a_comment_on_a_post_closed_before_the_insert_is_a_404_to_its_writer(
    own_database_url: str, tmp_path: Path
) -> None:
    async with app_with_trigger(own_database_url, tmp_path / "media", NOT_WRITTEN) as (
        resources,
        client,
    ):
        async with resources.database.session() as session:
            (post,) = await make_posts(session, await make_user(session, username="writer"), 1)
            reader = await make_user(session, username="reader", role="reader")
        response = await api_comment(client, reader, post.id, "First!")
        async with resources.database.session() as session:
            stored = await session.scalar(select(func.count()).select_from(Comment))

    assert (response.status_code, response.json()) == (404, {"detail": "Post not found"})
    assert stored == 0
