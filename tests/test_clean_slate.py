"""Every test starts on an empty database (the `client` fixture's reset, tests/conftest.py):
none sees the rows another wrote, in any table, and ids start over at 1."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.models import Base
from tests.comments.helpers import api_comment
from tests.conftest import reset_database
from tests.factories import api_create_post, api_create_user, login, make_user

pytestmark = pytest.mark.anyio


async def rows_per_table(session: AsyncSession) -> dict[str, int]:
    await session.commit()  # a fresh snapshot (SQLite keeps a read transaction's)
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = await session.scalar(select(func.count()).select_from(table)) or 0
    return counts


async def test_a_test_finds_no_row_of_the_one_before_and_ids_from_one(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # What a test leaves behind: a post with tags (the counting triggers), a comment and a
    # like (the notification triggers), a follow, the site's settings changed.
    author = await make_user(session, role="admin")
    reader = await make_user(session)
    post = (await api_create_post(client, author, tags=["one", "two"])).json()
    assert (await api_comment(client, reader, post["id"])).status_code == 201
    headers = await login(client, reader)
    assert (await client.post(f"/api/posts/{post['id']}/like", headers=headers)).status_code == 200
    follow = await client.post(f"/api/users/{author.id}/follow", headers=headers)
    assert follow.status_code == 200, follow.text
    site = await client.patch(
        "/api/site", json={"title": "Left over"}, headers=await login(client, author)
    )
    assert site.status_code == 200, site.text
    left = {name for name, count in (await rows_per_table(session)).items() if count}
    assert {"users", "posts", "tags", "post_tags", "comments", "post_likes", "follows"} <= left
    assert {"notifications", "tag_post_counts", "site_settings"} <= left

    await reset_database(app)

    assert {name: count for name, count in (await rows_per_table(session)).items() if count} == {}
    first = (await api_create_user(client)).json()
    assert first["id"] == 1
