"""The moderator commands, kept as aliases of `fastblog users set-role EMAIL editor|author`,
count at once: a token issued before the grant (or the revoke) follows it on its next
request."""

from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from tests.accounts import bearer
from tests.comments.helpers import make_comments
from tests.factories import make_posts, make_user
from tests.processes import FASTBLOG, fastblog_env, fastblog_in_process

pytestmark = pytest.mark.anyio


async def fastblog_users(settings: Settings, cwd: Path, *args: str) -> tuple[int, str, str]:
    """`fastblog users *args` on the test database: exit status, stdout, stderr."""
    result = await anyio.run_process(
        [FASTBLOG, "users", *args],
        env=fastblog_env(settings.database_url),
        cwd=cwd,
        check=False,
    )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


async def test_grant_and_revoke_apply_to_a_token_issued_before(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    tmp_path: Path,
) -> None:
    author = await make_user(session, username="author")
    mod = await make_user(session, username="mod", email="mod@example.com")
    (post,) = await make_posts(session, author, 1)
    first, second = await make_comments(session, post, author, 2)
    token = bearer(app, mod)  # issued before any grant

    def delete(comment_id: int) -> str:
        return f"/api/posts/{post.id}/comments/{comment_id}"

    assert (await client.delete(delete(first.id), headers=token)).status_code == 403

    # As typed by an operator: the address is matched as sign-up stores it (lower-case).
    status, out, err = await fastblog_users(
        settings, tmp_path, "grant-moderator", " Mod@Example.COM"
    )
    assert status == 0, err
    assert out.strip() == "mod (mod@example.com) is now an editor."
    assert (await client.delete(delete(first.id), headers=token)).status_code == 204

    # The same command again, in this process (the one above ran as the installed command).
    status, out, _ = await fastblog_in_process(
        settings, "users", "revoke-moderator", "mod@example.com"
    )
    assert status == 0
    assert out.strip() == "mod (mod@example.com) is now an author."
    assert (await client.delete(delete(second.id), headers=token)).status_code == 403
    listed = (await client.get(f"/api/posts/{post.id}/comments")).json()["comments"]
    assert [comment["id"] for comment in listed] == [second.id]


async def test_an_unknown_email_is_a_clear_error(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # In this process: the installed command's own run is the test above's.
    status, out, err = await fastblog_in_process(
        settings, "users", "grant-moderator", "nobody@example.com"
    )

    assert status == 1
    assert out == ""
    assert err.strip() == "No account has the email address 'nobody@example.com'."


async def test_an_account_cannot_give_itself_a_role(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    headers = bearer(app, user)

    await client.patch("/api/users/me", json={"role": "editor"}, headers=headers)

    await session.refresh(user)
    assert user.role == "author"
    assert (await client.get("/api/users/me", headers=headers)).json()["role"] == "author"
