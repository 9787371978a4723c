"""Accounts a person can trust, in a real browser: a stranger's guesses do not lock the owner
out, a reset lifts a lockout, the account page logs out everywhere and deletes the account, and
a failed upload stays at /account. Each browser calls from an address of its own (the server
trusts X-Forwarded-For from the loopback, as behind a proxy)."""

import random
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, SQLITE_ONLY, LiveServer, set_role
from tests.browser.test_accounts import PASSWORD, flash, header

pytestmark = [pytest.mark.browser, SQLITE_ONLY]

WRONG = "not the password at all"


def address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def visitor(live_server: LiveServer, browser: Browser) -> Iterator[Page]:
    """Another person's browser, from another address."""
    context: BrowserContext = browser.new_context(
        base_url=live_server.url, extra_http_headers={"X-Forwarded-For": address()}
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def browser_context_options() -> dict[str, object]:
    return {"extra_http_headers": {"X-Forwarded-For": address()}}


def sign_up(page: Page) -> tuple[str, str]:
    username = f"owner-{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"
    page.goto("/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(flash(page)).to_have_text(f"Welcome, {username}! Your account is ready.")
    header(page).get_by_role("button", name="Log out").click()
    return username, email


def log_in(page: Page, identifier: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email or username").fill(identifier)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_strangers_guesses_do_not_stop_the_owner(page: Page, visitor: Page) -> None:
    username, email = sign_up(page)
    for _ in range(5):
        log_in(visitor, email, WRONG)
        expect(visitor.get_by_role("alert")).to_have_text("Incorrect email, username or password.")
    log_in(visitor, email, PASSWORD)
    expect(visitor.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many failed logins\. Try again in (1 minute|\d+ seconds)\.$")
    )

    log_in(page, username, PASSWORD)  # by username: the same account
    expect(flash(page)).to_have_text(f"Welcome back, {username}!")


MAIL_WAIT_SECONDS = 30  # the outbox sends at once; a loaded machine may take a while


def reset_link(server: LiveServer, email: str) -> str:
    """The link of the last reset mail to `email` (without SMTP the mail goes to the log),
    once it is there: the outbox sends it after the page has answered."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while True:
        log = server.log_path.read_text(errors="replace")
        mails = log.split(f"email to {email} ")
        match = re.search(r"(http://\S+/reset-password\?token=[\w-]+)", mails[-1])
        if len(mails) > 1 and match:
            return match.group(1)
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.1)


def test_a_reset_lifts_the_lockout(page: Page, live_server: LiveServer) -> None:
    username, email = sign_up(page)
    for _ in range(5):
        log_in(page, username, WRONG)
    log_in(page, username, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed logins. Try again in")

    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(flash(page)).to_have_text("If an account uses that email, a reset link is on its way.")
    page.goto(reset_link(live_server, email))
    page.get_by_label("New password").fill("the password after the reset")
    page.get_by_role("button", name="Save the new password").click()
    expect(flash(page)).to_have_text("Your password is changed. Log in with the new one.")

    log_in(page, email, "the password after the reset")
    expect(flash(page)).to_have_text(f"Welcome back, {username}!")


def test_log_out_everywhere_then_delete_the_account(
    page: Page, visitor: Page, live_server: LiveServer
) -> None:
    username, email = sign_up(page)
    # The first account of the server's database is its owner, who cannot leave: whatever
    # ran before on this server, this one is an author.
    set_role(live_server, username, "author")
    for browser_page in (page, visitor):
        log_in(browser_page, email, PASSWORD)
        expect(flash(browser_page)).to_have_text(f"Welcome back, {username}!")

    page.goto("/account")
    page.get_by_role("button", name="Log out everywhere").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(flash(page)).to_have_text("You are logged out everywhere.")
    visitor.goto("/account")
    expect(visitor).to_have_url(re.compile(r"/login\?next=/account$"))

    log_in(page, email, PASSWORD)
    page.goto("/account")
    page.get_by_label("Your password, to confirm").fill(WRONG)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#password-error")).to_have_text("That is not your password.")
    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(flash(page)).to_have_text("Your account and your posts are deleted.")
    log_in(page, email, PASSWORD)
    expect(page.get_by_role("alert")).to_have_text("Incorrect email, username or password.")


def test_a_failed_upload_shows_the_error_at_account_and_survives_a_reload(page: Page) -> None:
    _, email = sign_up(page)
    log_in(page, email, PASSWORD)
    page.goto("/account")
    page.get_by_label("Upload a new picture").set_input_files(
        {"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"}
    )
    page.get_by_role("button", name="Upload", exact=True).click()

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#picture-error")).to_contain_text("not a picture we can read")
    response = page.reload()
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()


def test_head_answers_like_get_without_a_body(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        for path in ("/", "/health", "/ready", "/api/posts", "/static/css/main.css"):
            get = client.get(path)
            head = client.head(path)
            assert head.status_code == get.status_code == 200, path
            assert head.content == b"", path
            # The bytes as sent (httpx asks for gzip and br, and decodes what it gets).
            assert head.headers["content-length"] == str(get.num_bytes_downloaded), path
            assert head.headers["content-type"] == get.headers["content-type"], path
            assert head.headers.get("content-encoding") == get.headers.get("content-encoding")
