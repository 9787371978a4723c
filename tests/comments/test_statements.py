"""What moderation costs in statements: a comment is still two (the commenter with their
role, history and the post's state in one read, then the INSERT … SELECT), a post's comments
with a token one more (the viewer's role, which also checks the token) and the queue two."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from fastblog.comments.models import PENDING
from tests.comments.helpers import make_comments
from tests.comments.moderation import make_role
from tests.factories import StatementCounter, login, make_posts, make_user

pytestmark = pytest.mark.anyio


async def test_statements_of_commenting_listing_and_the_queue(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    (post,) = await make_posts(session, await make_user(session), 1)
    reader = await make_role(session, Role.READER)
    editor = await make_role(session, Role.EDITOR)
    await make_comments(session, post, reader, 3, status=PENDING)
    as_reader, as_editor = await login(client, reader), await login(client, editor)

    with count_statements() as writing:
        created = await client.post(
            f"/api/posts/{post.id}/comments", json={"body": "hi"}, headers=as_reader
        )
    with count_statements() as listing:
        mine = await client.get(f"/api/posts/{post.id}/comments", headers=as_reader)
    with count_statements() as queue:
        waiting = await client.get("/api/comments?status=pending", headers=as_editor)

    assert created.json()["status"] == "pending"
    assert len(mine.json()["comments"]) == 4
    assert len(waiting.json()["comments"]) == 4
    assert len(writing) == 2, writing
    assert len(listing) == 2, listing
    assert len(queue) == 2, queue
