"""Blocked domains: a site setting admins change through the API, and the command line."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fastblog.config import Settings
from fastblog.db import Database
from fastblog.federation.blocks import blocked_domains
from tests.accounts import bearer
from tests.asgi import resources_of
from tests.conftest import make_settings
from tests.factories import make_user
from tests.processes import fastblog_in_process
from tests.test_cli import fastblog

pytestmark = pytest.mark.anyio


async def test_admins_block_and_unblock_domains_through_the_api(
    fed_app: FastAPI, ap: httpx.AsyncClient
) -> None:
    async with resources_of(fed_app).database.transaction() as session:
        owner = await make_user(session, username="boss", role="owner")
        writer = await make_user(session, username="writer")
    api = "/api/site/blocked-domains"
    assert (await ap.get(api)).status_code == 401
    assert (await ap.put(f"{api}/spam.example", headers=bearer(fed_app, writer))).status_code == 403
    admin = bearer(fed_app, owner)
    assert (await ap.put(f"{api}/Spam.Example", headers=admin)).status_code == 204
    assert (await ap.get(api, headers=admin)).json() == {"domains": ["spam.example"]}
    bad = await ap.put(f"{api}/not a domain", headers=admin)
    assert bad.status_code == 422
    assert "domain" in bad.text
    assert (await ap.delete(f"{api}/spam.example", headers=admin)).status_code == 204
    assert (await ap.get(api, headers=admin)).json() == {"domains": []}


async def test_the_command_line_blocks_a_domain(migrated_database_url: str, tmp_path: Path) -> None:
    # A migrated copy (tests/migrated.py): `db upgrade` has tests of its own (tests/test_cli.py).
    url = migrated_database_url
    output = await fastblog(url, tmp_path, "federation", "block", "spam.example")
    assert output.startswith("Blocked spam.example")
    # The listing through the command's `main` in this process (tests.processes says why).
    settings = make_settings(url, tmp_path / "media")
    status, listed, err = await fastblog_in_process(settings, "federation", "blocked")
    assert (status, listed.strip(), err) == (0, "spam.example", "")
    db = Database.open(Settings(database_url=url))
    try:
        assert await blocked_domains(db) == ["spam.example"]
    finally:
        await db.close()
