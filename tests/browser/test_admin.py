"""/admin/settings in a real browser, JavaScript off: an admin renames the site, sets its
navigation, footer and time zone, sees a wrong value beside its field, and every page shows
the owner's words at once."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.browser.conftest import LiveServer
from tests.browser.test_accounts import flash, header, sign_up

pytestmark = pytest.mark.browser

ORIGINAL = {
    "Title": "fastblog",
    "Navigation": "Home | /",
    "Footer": "",
    "Time zone": "UTC",
}


def set_role(server: LiveServer, username: str, role: str) -> None:
    """What `fastblog users set-role` does, straight in the server's database (the role is
    read with the user on every request, so it counts at once)."""

    async def update() -> None:
        engine = create_async_engine(server.env["DATABASE_URL"])
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE users SET role = :role WHERE username = :username"),
                    {"role": role, "username": username},
                )
        finally:
            await engine.dispose()

    # In a thread of its own: Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, update()).result()


def fill_settings(page: Page, values: dict[str, str]) -> None:
    page.goto("/admin/settings")
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Save settings").click()


@pytest.mark.parametrize("browser_context_options", [{"java_script_enabled": False}], ids=["no-js"])
def test_an_admin_changes_the_site_settings_without_javascript(
    page: Page, live_server: LiveServer
) -> None:
    username = sign_up(page)
    page.goto("/")
    expect(header(page).get_by_role("link", name="Admin")).to_have_count(0)
    page.goto("/admin/settings")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    set_role(live_server, username, "admin")

    try:
        page.goto("/")
        header(page).get_by_role("link", name="Admin").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        page.get_by_role("link", name="Site settings").click()
        expect(page.get_by_label("Title", exact=True)).to_have_value("fastblog")

        fill_settings(page, {"Time zone": "Atlantis/Capital"})
        error = page.locator("#timezone-error")
        expect(error).to_have_text(
            "The time zone is a name such as Europe/Paris, America/New_York or UTC."
        )
        expect(page.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")

        fill_settings(
            page,
            {
                "Title": "Harbour Notes",
                "Navigation": "Home | /\nAtom | /feed.xml",
                "Footer": "© 2026 the crew",
                "Time zone": "Europe/Paris",
            },
        )
        expect(flash(page)).to_have_text("The settings are saved.")
        page.get_by_label("Comments").select_option("approve_all")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_label("Comments")).to_have_value("approve_all")

        page.goto("/")
        expect(page).to_have_title("Latest posts · Harbour Notes")
        expect(header(page).get_by_role("link", name="Harbour Notes")).to_be_visible()
        expect(header(page).get_by_role("link", name="Atom", exact=True)).to_have_attribute(
            "href", "/feed.xml"
        )
        expect(header(page).get_by_role("link", name="API")).to_have_count(0)
        footer = page.get_by_role("contentinfo")
        expect(footer).to_contain_text("© 2026 the crew")
        expect(footer).to_contain_text("Dates are in Europe/Paris time.")
        expect(footer.get_by_role("link", name="API")).to_have_attribute("href", "/docs")
    finally:
        # The server is shared with the other browser tests: put its settings back.
        fill_settings(page, ORIGINAL)
        page.get_by_label("Comments").select_option("approve_first")
        page.get_by_role("button", name="Save settings").click()
        expect(flash(page)).to_have_text("The settings are saved.")
