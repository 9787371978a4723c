"""Every page type through the outside validators: axe-core in Chromium (0 serious or critical
accessibility violations, and every link that sits in text underlined) and the Nu Html Checker
(0 errors in the HTML the server sends), plus the Atom feed's XML well-formedness.

Cheap on purpose: the pages are fetched once, in one browser session (the module's fixture);
axe is injected into each of them there; vnu (a JVM, seconds to start) runs once on the folder
of saved pages. The validators are npm packages pinned in tools/validators (axe-core,
vnu-jar), installed by `make validators` (which .ci/run runs) into .cache/validators; vnu runs
on Debian's Java. Without them the tests are skipped, except in CI, where that fails.
"""

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import APIRequestContext, Browser, BrowserContext, Page, expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, SQLITE_ONLY, LiveServer
from tests.browser.test_accounts import PASSWORD, make_png, unique
from tests.browser.test_admin import set_role
from tests.conftest import IN_CI

# On SQLite only (SQLITE_ONLY says why): the markup and the styles are the same on either
# database, and this module's minute is better spent once.
pytestmark = [pytest.mark.browser, SQLITE_ONLY]

NODE_MODULES = Path(__file__).resolve().parents[2] / ".cache" / "validators" / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
INSTALL = "`make validators` installs them (with npm; vnu also needs Java)"
# Impacts that fail the test; "moderate" and "minor" ones are reported, not failed.
FAILING_IMPACTS = {"serious", "critical"}

ARTICLE = """\
A first paragraph with [a link in the text](https://example.org/) and `inline code`.

![An orange square with a blue one inside]({picture})

# A heading written as a title

Some words under it.

## A subheading

```python
def greet(name: str) -> str:
    # A comment, which the old code style showed at 2.75:1.
    return f"Hello, {{name}}!"
```

| Column | Other |
|--------|------:|
| one    |     2 |

> A quotation.

- a list item
- another
"""

# Marks the links that sit among other text (WCAG 1.4.1 asks them to be told apart by more
# than colour) and are not underlined; axe's link-in-text-block rule only checks colour.
LINKS_NOT_UNDERLINED = """() => [...document.querySelectorAll("main a[href], footer a[href]")]
  .filter(link => {
    const block = link.closest("p, li, td, dd, blockquote, figcaption");
    if (!block || block.textContent.trim() === link.textContent.trim()) return false;
    return !getComputedStyle(link).textDecorationLine.includes("underline");
  })
  .map(link => link.outerHTML.slice(0, 120))"""


@dataclass
class Checked:
    """What the browser session found: the saved HTML of each page, axe's verdicts."""

    folder: Path
    html: dict[str, Path] = field(default_factory=dict)  # page name → its saved HTML
    violations: dict[str, list[str]] = field(default_factory=dict)
    not_underlined: dict[str, list[str]] = field(default_factory=dict)
    feed: bytes = b""


def required(path: Path | None, what: str) -> Path:
    if path is None or not path.exists():
        message = f"{what} not found ({INSTALL})"
        if IN_CI:
            pytest.fail(message + "; CI requires it", pytrace=False)
        pytest.skip(message)
    return path


def api_token(api: APIRequestContext, username: str) -> dict[str, str]:
    response = api.post("/api/users/token", form={"username": username, "password": PASSWORD})
    assert response.ok, response.text()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def api_user(api: APIRequestContext) -> tuple[str, int]:
    username = unique("validated")
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    response = api.post("/api/users", data=body)
    assert response.status == 201, response.text()
    return username, response.json()["id"]


def write_content(api: APIRequestContext, server: LiveServer, folder: Path) -> dict[str, str]:
    """An admin's article with a picture, code and a table, a reader's comment waiting for
    approval, a draft, an invitation and a static page; returns the paths that show them."""
    admin, admin_id = api_user(api)
    set_role(server, admin, "admin")
    headers = api_token(api, admin)
    picture = make_png(folder / "picture.png")
    uploaded = api.patch(
        "/api/users/me/picture",
        headers=headers,
        multipart={
            "file": {"name": "me.png", "mimeType": "image/png", "buffer": picture.read_bytes()}
        },
    )
    assert uploaded.ok, uploaded.text()
    picture_path = api.get("/api/users/me", headers=headers).json()["image_path"]
    tag = unique("checked").lower()
    article = api.post(
        "/api/posts",
        headers=headers,
        data={
            "title": "Every validator reads this",
            "content": ARTICLE.format(picture=picture_path),
            "tags": [tag],
        },
    )
    assert article.status == 201, article.text()
    post = article.json()
    draft = {"title": "Not yet", "content": "A draft.", "status": "draft"}
    assert api.post("/api/posts", headers=headers, data=draft).status == 201
    reader, _ = api_user(api)
    comment = {"body": "A reader's *first* comment, with [a link](https://example.org/)."}
    posted = api.post(
        f"/api/posts/{post['id']}/comments", headers=api_token(api, reader), data=comment
    )
    assert posted.status == 201, posted.text()
    invitation = {"email": f"{unique('invited')}@example.com", "role": "author"}
    assert api.post("/api/invitations", headers=headers, data=invitation).status == 201
    slug = unique("colophon")
    static = {"title": "Colophon", "slug": slug, "content": "## How\n\nBy hand, [with care](/)."}
    assert api.post("/api/pages", headers=headers, data=static).status == 201, "page"
    return {
        "admin": admin,
        "article": f"/posts/{post['id']}/{post['slug']}",
        "tag": f"/tags/{tag}",
        "author": f"/users/{admin_id}/posts",
        "static page": f"/{slug}",
    }


def visit(page: Page, path: str, name: str, checked: Checked, status: int = 200) -> None:
    """Load the page, keep the HTML the server sent, run axe (there since the page began:
    the `checked` fixture's init script) and the underline check on it."""
    response = page.goto(path)
    assert response is not None, path
    assert response.status == status, (path, response.status)
    saved = checked.folder / (re.sub(r"\W+", "-", name).strip("-") + ".html")
    saved.write_bytes(response.body())
    checked.html[name] = saved
    results: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
    )
    checked.violations[name] = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in results["violations"]
        if violation["impact"] in FAILING_IMPACTS
    ]
    checked.not_underlined[name] = page.evaluate(LINKS_NOT_UNDERLINED)


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main").get_by_text(username)).to_be_visible()


@pytest.fixture(scope="module")
def checked(
    browser: Browser, live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Checked]:
    required(AXE, "axe-core")
    folder = tmp_path_factory.mktemp("validated")
    result = Checked(folder)
    # bypass_csp: axe is injected as a script of its own, which the site's CSP would refuse.
    context: BrowserContext = browser.new_context(
        base_url=live_server.url, viewport={"width": 1024, "height": 768}, bypass_csp=True
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    # Into every page as it begins: sent to Chromium once, not 550 kB again for each page.
    context.add_init_script(path=AXE)
    try:
        page = context.new_page()
        paths = write_content(context.request, live_server, folder)
        for name, path in [
            ("home", "/"),
            ("login", "/login"),
            ("sign-up", "/register"),
            ("article, anonymous", paths["article"]),
        ]:
            visit(page, path, name, result)
        visit(page, "/forgot-password", "forgot password", result)
        visit(page, "/no/such/page", "404", result, status=404)
        log_in(page, paths["admin"])
        for name in ("article", "tag", "author", "static page"):
            visit(page, paths[name], name, result)
        for name, path in [
            ("home, logged in", "/"),
            ("following", "/feed"),
            ("search", "/search?q=validator"),
            ("new post", "/posts/new"),
            ("account", "/account"),
            ("drafts", "/drafts"),
            ("edit post", paths["article"].rsplit("/", 1)[0] + "/edit"),
            ("admin", "/admin"),
            ("admin settings", "/admin/settings"),
            ("admin comments", "/admin/comments"),
            ("admin invitations", "/admin/invitations"),
        ]:
            visit(page, path, name, result)
        result.feed = context.request.get("/feed.xml").body()
        yield result
    finally:
        context.close()


def test_axe_finds_no_serious_or_critical_violation(checked: Checked) -> None:
    assert len(checked.violations) == 21
    found = {name: problems for name, problems in checked.violations.items() if problems}
    assert not found, json.dumps(found, indent=2)


def test_links_inside_text_are_underlined(checked: Checked) -> None:
    found = {name: links for name, links in checked.not_underlined.items() if links}
    assert not found, json.dumps(found, indent=2)


def test_the_nu_html_checker_finds_no_error(checked: Checked) -> None:
    java = required(Path(shutil.which("java") or "/nonexistent/java"), "java")
    vnu = required(VNU, "vnu-jar")
    # One JVM for all the pages: its start costs seconds, each page a few milliseconds. A run
    # this short is done before the JVM's optimising compiler pays off: its quick compiler
    # alone (TieredStopAtLevel=1) halved vnu's CPU time (4.4 s to 2.2 s for the 21 pages);
    # that code's deeper stack needs more than the default, which vnu detects and refuses.
    run = subprocess.run(
        [
            java,
            "-XX:TieredStopAtLevel=1",
            "-Xss4m",
            "-jar",
            vnu,
            "--format",
            "json",
            "--stdout",
            "--exit-zero-always",
            *checked.html.values(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    messages = json.loads(run.stdout)["messages"]
    names = {path.name: name for name, path in checked.html.items()}
    errors = [
        f"{names.get(message.get('url', '').rsplit('/', 1)[-1], message.get('url'))}:"
        f"{message.get('lastLine')}: "
        f"{message['message']} {message.get('extract', '')!r}"
        for message in messages
        if message["type"] in ("error", "non-document-error")
    ]
    assert not errors, "\n".join(errors)
    assert len(names) == 21


def test_the_atom_feed_is_well_formed_xml(checked: Checked) -> None:
    # expat raises ParseError on anything not well-formed.
    feed = ET.fromstring(checked.feed)  # noqa: S314 - the app under test wrote it
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    titles = [entry.findtext("{http://www.w3.org/2005/Atom}title") for entry in feed]
    assert "Every validator reads this" in titles
