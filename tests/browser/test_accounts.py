"""Accounts in a real browser: what a person sees when they sign up, write, upload and log out."""

import re
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import ConsoleMessage, Locator, Page, Request, Response, expect

from tests.browser.conftest import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
# The header's colour in main.css: if the stylesheet did not load, the header is unstyled.
HEADER_BACKGROUND = "rgb(31, 41, 51)"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def header(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def flash(page: Page) -> Locator:
    return page.get_by_role("status")


def register(page: Page, username: str, email: str, password: str = PASSWORD) -> None:
    page.goto("/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Register").click()


def sign_up(page: Page) -> str:
    """A new account, logged in; returns its username."""
    username = unique("reader")
    register(page, username, f"{username}@example.com")
    expect(flash(page)).to_have_text(f"Welcome, {username}! Your account is ready.")
    return username


# JavaScript off: the site promises that every page and form works without it.
@pytest.mark.parametrize("browser_context_options", [{"java_script_enabled": False}], ids=["no-js"])
def test_register_login_write_edit_delete_logout(page: Page) -> None:
    username = unique("writer")
    email = f"{username}@example.com"
    register(page, username, email)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(flash(page)).to_have_text(f"Welcome, {username}! Your account is ready.")
    expect(header(page).get_by_role("link", name=username)).to_be_visible()

    header(page).get_by_role("button", name="Log out").click()
    expect(flash(page)).to_have_text("You are logged out.")
    header(page).get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(flash(page)).to_have_text(f"Welcome back, {username}!")
    expect(header(page).get_by_role("link", name=username)).to_be_visible()

    title = unique("First light")
    header(page).get_by_role("link", name="New post").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Content").fill("Written in a real browser.")
    page.get_by_role("button", name="Publish").click()
    expect(page).to_have_url(re.compile(r"/posts/\d+/[\w-]+$"))
    expect(flash(page)).to_have_text("Your post is published.")
    expect(page.get_by_role("heading", name=title)).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Title")).to_have_value(title)
    new_title = unique("Second light")
    page.get_by_label("Title").fill(new_title)
    page.get_by_role("button", name="Save").click()
    expect(flash(page)).to_have_text("Your post is updated.")
    expect(page.get_by_role("heading", name=new_title)).to_be_visible()

    header(page).get_by_role("link", name="Home").click()
    post = page.locator("article.post").filter(has_text=new_title)
    expect(post).to_have_count(1)
    expect(post).to_contain_text("Written in a real browser.")
    expect(page.get_by_text(title, exact=True)).to_have_count(0)

    post.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this post?")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(new_title)
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(flash(page)).to_have_text("Your post is deleted.")
    expect(page.get_by_text(new_title)).to_have_count(0)

    header(page).get_by_role("button", name="Log out").click()
    expect(flash(page)).to_have_text("You are logged out.")
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()
    expect(header(page).get_by_role("link", name=username)).to_have_count(0)
    expect(header(page).get_by_role("link", name="New post")).to_have_count(0)


def make_png(path: Path) -> Path:
    """A landscape picture, so the server's square crop shows in the result."""
    image = Image.new("RGB", (400, 300), (230, 120, 40))
    image.paste((40, 90, 200), (150, 100, 250, 200))
    image.save(path, "PNG")
    return path


def loaded_size(image: Locator) -> list[int]:
    """The image's pixel size once the browser has decoded it (decode() fails if it can't)."""
    size: list[int] = image.evaluate(
        "img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])"
    )
    return size


def test_upload_a_picture_and_see_it_in_the_header(page: Page, tmp_path: Path) -> None:
    username = sign_up(page)
    avatar = header(page).get_by_role("link", name=username).locator("img.avatar")
    expect(avatar).to_have_attribute("src", "/static/img/default-avatar.png")

    header(page).get_by_role("link", name=username).click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    page.get_by_label("Upload a new picture").set_input_files(make_png(tmp_path / "me.png"))
    page.get_by_role("button", name="Upload", exact=True).click()

    expect(flash(page)).to_have_text("Your picture is updated.")
    expect(avatar).to_have_attribute("src", re.compile(r"^/media/profile_pics/[\w-]+\.jpg$"))
    assert loaded_size(avatar) == [256, 256]
    large = page.get_by_role("img", name="Your profile picture")
    expect(large).to_have_attribute("src", avatar.get_attribute("src") or "")
    assert loaded_size(large) == [256, 256]
    expect(page.get_by_role("button", name="Remove picture")).to_be_visible()


def test_a_form_error_keeps_what_the_user_typed(page: Page) -> None:
    username = unique("typist")
    register(page, username, "not-an-email")

    email = page.get_by_label("Email")
    expect(page.get_by_label("Username")).to_have_value(username)
    expect(email).to_have_value("not-an-email")
    expect(page.get_by_label("Password")).to_have_value("")  # never sent back
    error = page.locator(".field").filter(has=email).locator(".field-error")
    expect(error).to_have_text("This doesn't look like an email address.")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("look like an email address"))
    expect(page.locator(".field-error")).to_have_count(1)
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()


def test_pages_load_cleanly_with_the_local_stylesheet(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []
    foreign: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text} ({page.url})")

    def on_request(request: Request) -> None:
        if not request.url.startswith(live_server.url + "/"):
            foreign.append(request.url)

    def on_response(response: Response) -> None:
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    def on_request_failed(request: Request) -> None:
        # ERR_ABORTED: our next goto() cancelled a late fetch (the favicon); not a page defect.
        if request.failure != "net::ERR_ABORTED":
            problems.append(f"failed: {request.url} ({request.failure}, on {page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", on_request_failed)
    page.on("request", on_request)
    page.on("response", on_response)

    def visit(path: str) -> None:
        page.goto(path, wait_until="load")
        expect(page.locator(".site-header")).to_have_css("background-color", HEADER_BACKGROUND)

    for path in ("/", "/login", "/register", "/forgot-password"):
        visit(path)
    sign_up(page)
    page.goto("/posts/new")
    page.get_by_label("Title").fill(unique("Styled"))
    page.get_by_label("Content").fill("Checking the stylesheet.")
    page.get_by_role("button", name="Publish").click()
    expect(flash(page)).to_have_text("Your post is published.")
    post_path = page.url.removeprefix(live_server.url)
    edit_path = post_path.rsplit("/", 1)[0] + "/edit"
    for path in ("/", "/account", "/posts/new", post_path, edit_path):
        visit(path)

    expect(page.get_by_role("main").get_by_role("button", name="Save")).to_have_css(
        "background-color", "rgb(42, 101, 204)"
    )
    assert not problems, "\n".join(problems)
    assert not foreign, f"every asset comes from the site itself (no CDN): {foreign}"
