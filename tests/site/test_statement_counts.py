"""The settings cost the hot pages no statement: the home page and the post page take what
they took before there were settings, while the settings are read in the background."""

import re

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from tests.accounts import bearer
from tests.asgi import resources_of
from tests.factories import StatementCounter, make_posts, make_user

pytestmark = pytest.mark.anyio

# The site settings' refresh (fastblog.site.store), once a second on its own clock.
SITE_SETTINGS_REFRESH = re.compile(r"\s*SELECT site_settings\.title\b")


async def test_home_and_post_pages_read_no_settings_and_the_refresh_runs_apart(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
) -> None:
    owner = await make_user(session, role=Role.OWNER)
    [post] = await make_posts(session, owner, 1)
    change = {"title": "Harbour Notes", "timezone": "Europe/Paris", "footer": "Ahoy."}
    assert (await client.patch("/api/site", json=change, headers=bearer(app, owner))).is_success

    with count_statements() as statements:
        home = await client.get("/")
    with count_statements() as post_statements:
        article = await client.get(f"/posts/{post.id}/{post.slug}")

    assert "Harbour Notes" in home.text
    assert "Ahoy." in article.text
    assert 1 <= len(statements) <= 2, statements  # the page of posts and its count: as before
    assert len(post_statements) == 2, post_statements  # as tests/test_query_counts.py
    assert not any("site_settings" in sql for sql in statements + post_statements)

    # The refresh, which StatementCounter leaves out (it is no request's), does run.
    seen: list[str] = []
    runner = resources_of(app).database.runner

    def listen(sql: str) -> None:
        if SITE_SETTINGS_REFRESH.match(sql):
            seen.append(sql)

    runner.listeners.append(listen)
    try:
        for _ in range(100):  # 10 s: ten times the refresh interval
            if seen:
                break
            await anyio.sleep(0.1)
    finally:
        runner.listeners.remove(listen)
    assert seen, "no refresh of the site settings within 10 s"
