"""A change of the settings shows on every process within two seconds, and the environment
gives a new database its first settings, never later ones."""

import time
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.roles import Role
from fastblog.cli import upgrade_database
from fastblog.config import Settings
from fastblog.site.schemas import SiteSettings
from fastblog.site.store import REFRESH_SECONDS
from tests.accounts import bearer
from tests.apps import create_app
from tests.asgi import asgi_transport, resources_of, started
from tests.conftest import make_settings
from tests.factories import make_user

pytestmark = pytest.mark.anyio


async def test_a_change_on_one_app_shows_on_another_within_two_seconds(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    # The rule (two seconds) holds by construction: the other process reads the row every
    # REFRESH_SECONDS, and the first read that starts after the change commits must show it.
    # Wall time would measure the machine's load (a CI run saw 3.1 s with every core busy), so
    # the test checks the construction: what the first read after the change returned.
    admin = await make_user(session, role=Role.ADMIN)
    other = create_app(settings)  # a second worker (or host) on the same database
    async with started(other):
        store = resources_of(other).site
        reads: list[tuple[float, str]] = []  # (when the read started, the title it returned)
        read_row = store.refresh

        async def recorded_read() -> SiteSettings:
            started_at = time.monotonic()
            current = await read_row()
            reads.append((started_at, current.title))
            return current

        store.refresh = recorded_read  # type: ignore[method-assign]
        transport = asgi_transport(other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as second:
            assert (await second.get("/")).status_code == 200
            response = await client.patch(
                "/api/site", json={"title": "Harbour Notes"}, headers=bearer(app, admin)
            )
            assert response.status_code == 200
            changed_at = time.monotonic()

            # Until a read that started after the change has returned (10 s, far past the
            # rule: a hang fails, not the measure). Not until the title shows: a read that
            # started before `changed_at` (during the PATCH) may already return it.
            for _ in range(200):
                if any(started_at > changed_at for started_at, _title in reads):
                    break
                await anyio.sleep(0.05)
            home = await second.get("/")

    reads_after_change = [title for started_at, title in reads if started_at > changed_at]
    assert reads_after_change, "the other process did not read the settings again"
    assert reads_after_change[0] == "Harbour Notes"
    assert "Harbour Notes" in home.text
    assert REFRESH_SECONDS <= 1.0


async def test_the_environment_gives_the_first_settings_and_the_database_keeps_them(
    fresh_database_url: str, tmp_path: Path
) -> None:
    await anyio.to_thread.run_sync(upgrade_database, fresh_database_url)

    async def title_served(**environment: object) -> dict[str, object]:
        settings = make_settings(fresh_database_url, tmp_path, **environment)
        app = create_app(settings)
        async with started(app):
            transport = asgi_transport(app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                site: dict[str, object] = (await client.get("/api/site")).json()
                return site

    first = await title_served(
        site_name="Harbour Notes",
        site_description="Boats and code.",
        registration="invite",
        new_account_role="contributor",
        comments="approve_all",
        timezone="Europe/Lisbon",
        posts_per_page=7,
    )
    later = await title_served(site_name="Something Else", timezone="Asia/Tokyo")

    expected = {
        "title": "Harbour Notes",
        "description": "Boats and code.",
        "registration": "invite",
        "new_account_role": "contributor",
        "comments": "approve_all",
        "timezone": "Europe/Lisbon",
        "posts_per_page": 7,
    }
    assert {name: first[name] for name in expected} == expected
    assert {name: later[name] for name in expected} == expected


def test_an_unknown_time_zone_in_the_environment_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TIMEZONE is not a time zone name"):
        make_settings("sqlite+aiosqlite:///x.db", tmp_path, timezone="Mars/Olympus_Mons")


async def test_a_row_changed_by_hand_to_an_unknown_time_zone_keeps_the_site_serving(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await make_user(session, role=Role.ADMIN)
    change = {"timezone": "Asia/Tokyo"}
    assert (await client.patch("/api/site", json=change, headers=bearer(app, admin))).is_success
    await session.execute(text("UPDATE site_settings SET timezone = 'Mars/Olympus_Mons'"))
    await session.commit()

    await resources_of(app).site.refresh()  # what the background refresh does each second

    assert (await client.get("/")).status_code == 200
    assert (await client.get("/api/site")).json()["timezone"] == "Asia/Tokyo"
