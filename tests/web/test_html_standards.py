"""What the HTML standard and search engines ask of every page: `<time datetime>` values in a
format the standard accepts, and a canonical address on each list page (its paging kept)."""

import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.web.templating import html_datetime
from tests.apps import create_app
from tests.asgi import asgi_transport, started
from tests.conftest import make_settings
from tests.factories import api_create_post, make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

# The HTML standard's "valid global date and time string" (with a time zone: the pages show
# moments, not a wall clock): seconds optional, a fraction of 1-3 digits, Z or an offset.
GLOBAL_DATE_AND_TIME = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:?\d\d)"
)


class _Times(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "time":
            self.values.append(dict(attrs).get("datetime") or "")


def time_values(response: httpx.Response) -> list[str]:
    parser = _Times()
    parser.feed(response.text)
    parser.close()
    return parser.values


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 3, 3, 9, 30, 5, 123456, tzinfo=UTC), "2026-03-03T09:30:05Z"),
        (datetime(2026, 3, 3, 1, 0, tzinfo=timezone(timedelta(hours=2))), "2026-03-02T23:00:00Z"),
        (datetime(2026, 3, 3, 9, 30), "2026-03-03T09:30:00Z"),  # naive: the database's UTC
    ],
)
def test_a_moment_is_written_as_the_standard_asks(moment: datetime, expected: str) -> None:
    assert html_datetime(moment) == expected
    assert GLOBAL_DATE_AND_TIME.fullmatch(html_datetime(moment))


async def test_every_time_on_the_pages_has_a_valid_datetime(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await make_posts(session, author, 2)
    # Written through the API: its dates carry microseconds, which isoformat() would print
    # as six fraction digits (the standard allows three).
    created = await api_create_post(client, author, title="Timed", content="Words.", tags=["t"])
    post = created.json()
    await client.patch(f"/api/posts/{post['id']}", json={"content": "Edited."})

    pages = [
        "/",
        f"/posts/{post['id']}/{post['slug']}",
        "/tags/t",
        f"/users/{author.id}/posts",
        "/search?q=timed",
    ]
    for path in pages:
        values = time_values(await client.get(path))
        assert values, f"{path} shows no date"
        for value in values:
            assert GLOBAL_DATE_AND_TIME.fullmatch(value), (path, value)
    article = time_values(await client.get(f"/posts/{post['id']}/{post['slug']}"))
    assert len(article) >= 2, "the published and the edited date"


async def test_each_list_page_is_its_own_canonical_with_its_paging(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await make_posts(session, author, 25)
    await api_create_post(client, author, title="Tagged", content="Words.", tags=["t"])
    cases = {
        "/": "/",
        "/posts": "/",  # the same list as the home page
        "/?page=2&utm_source=mail": "/?page=2",  # the page kept, the tracking dropped
        "/posts?page=3": "/?page=3",
        "/?tag=t": "/?tag=t",
        "/tags/t": "/tags/t",
        f"/users/{author.id}/posts?page=2": f"/users/{author.id}/posts?page=2",
        "/search?q=post&utm_medium=x": "/search?q=post",
    }
    for path, canonical in cases.items():
        page = read_page(await client.get(path))
        assert page.head_link("canonical")["href"] == "http://testserver" + canonical, path

    older = read_page(await client.get("/")).link("Older posts →").href
    assert older.startswith("/?cursor=")
    on_page_two = read_page(await client.get(older)).head_link("canonical")["href"]
    assert on_page_two == "http://testserver" + older


async def test_list_pages_name_the_public_address_when_set(
    settings: Settings, tmp_path: Path, session: AsyncSession
) -> None:
    author = await make_user(session)
    await make_posts(session, author, 1)
    app = create_app(
        make_settings(settings.database_url, tmp_path, public_base_url="https://blog.example.org/")
    )
    async with (
        started(app),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://10.0.0.5:8000") as c,
    ):
        for path in ("/", f"/users/{author.id}/posts", "/search?q=post"):
            page = read_page(await c.get(path))
            assert page.head_link("canonical")["href"] == "https://blog.example.org" + path
