"""The admin pages in a real browser: an admin renames the site (JavaScript off) and every
page shows the owner's words at once; the dashboard counts waiting comments and invitations
and links to their pages, where the admin approves one comment and rejects another (the
reader then sees the one, not the other), invites someone and revokes the invitation."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import SQLITE_ONLY, LiveServer, set_role
from tests.browser.test_accounts import flash, header, sign_up
from tests.browser.test_comments import write_post

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

ORIGINAL = {
    "Title": "fastblog",
    "Navigation": "Home | /",
    "Footer": "",
    "Time zone": "UTC",
}


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
    # The first account of the server's database is its owner: whatever ran before on this
    # server, this user starts as an author.
    set_role(live_server, username, "author")
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


def dashboard_count(page: Page, label: str) -> int:
    """The number beside a dashboard link, such as "Waiting for approval: 2"."""
    line = page.locator("li, p", has=page.get_by_role("link", name=label, exact=True))
    return int(line.inner_text().rsplit(":", 1)[1])


def test_an_admin_approves_and_rejects_comments_and_invites_from_the_dashboard(
    page: Page, browser: Browser, live_server: LiveServer
) -> None:
    admin = sign_up(page)
    set_role(live_server, admin, "admin")
    post_url = write_post(page, f"Moderated by {admin}")

    reader_context = browser.new_context(base_url=live_server.url)
    try:
        reader = reader_context.new_page()
        reader_name = sign_up(reader)
        set_role(live_server, reader_name, "reader")  # a reader's first comments wait
        reader.goto(post_url)
        for body in (f"Keep me {reader_name}", f"Reject me {reader_name}"):
            reader.get_by_label("Your comment").fill(body)
            reader.get_by_role("button", name="Comment", exact=True).click()
            expect(flash(reader)).to_contain_text("Your comment is waiting for approval")

        # The dashboard counts them and links to the queue.
        page.goto("/admin")
        waiting = dashboard_count(page, "Waiting for approval")
        invitations = dashboard_count(page, "Pending invitations")
        assert waiting >= 2
        page.get_by_role("link", name="Waiting for approval").click()
        expect(page).to_have_url(re.compile(r"/admin/comments$"))
        for body, button, message in [
            (f"Keep me {reader_name}", "Approve", "The comment is approved: everyone can see it."),
            (f"Reject me {reader_name}", "Delete", "The comment is deleted."),
        ]:
            comment = page.locator("article.comment", has_text=body)
            comment.get_by_role("button", name=re.compile(f"^{button}")).click()
            expect(flash(page)).to_have_text(message)
            expect(page.locator("article.comment", has_text=body)).to_have_count(0)
        page.goto("/admin")
        assert dashboard_count(page, "Waiting for approval") == waiting - 2

        # The reader now sees the approved comment as everyone's, and the rejected one is gone.
        reader.goto(post_url)
        comments = reader.locator("article.comment")
        expect(comments).to_have_count(1)
        expect(comments).to_contain_text(f"Keep me {reader_name}")
        expect(comments).not_to_contain_text("Awaiting approval")
    finally:
        reader_context.close()

    # Invite someone, see the invitation waiting, revoke it.
    page.get_by_role("link", name="Pending invitations").click()
    expect(page).to_have_url(re.compile(r"/admin/invitations$"))
    guest = f"guest-{admin}@example.com"
    page.get_by_label("Email").fill(guest)
    page.get_by_label("Role").select_option("contributor")
    page.get_by_role("button", name="Send invitation").click()
    expect(flash(page)).to_have_text(f"Invitation sent to {guest}.")
    row = page.get_by_role("row", name=re.compile(re.escape(guest)))
    expect(row).to_contain_text("contributor")
    page.goto("/admin")
    assert dashboard_count(page, "Pending invitations") == invitations + 1
    page.get_by_role("link", name="Pending invitations").click()
    page.get_by_role("row", name=re.compile(re.escape(guest))).get_by_role(
        "button", name="Revoke"
    ).click()
    expect(flash(page)).to_have_text("The invitation is revoked.")
    expect(page.get_by_role("row", name=re.compile(re.escape(guest)))).to_have_count(0)
    page.goto("/admin")
    assert dashboard_count(page, "Pending invitations") == invitations
