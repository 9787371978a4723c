"""The /search page and the header's search box, read as a reader reads them."""

from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_user
from tests.html import read_page
from tests.search.helpers import write

pytestmark = pytest.mark.anyio


class Snippets(HTMLParser):
    """Every element inside the results' snippets, and the words inside their <mark>s."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.marked: list[str] = []
        self.texts: list[str] = []
        self._depth = 0
        self._mark = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth:
            self._depth += 1
            self.elements.append(tag)
            self._mark = tag == "mark"
        elif tag == "p" and "snippet" in (dict(attrs).get("class") or "").split():
            self._depth = 1
            self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._depth:
            self._depth -= 1
            self._mark = False

    def handle_data(self, data: str) -> None:
        if self._depth:
            self.texts[-1] += data
            if self._mark:
                self.marked.append(data)


async def test_every_page_has_a_search_box(client: httpx.AsyncClient) -> None:
    page = read_page(await client.get("/"))

    box = [field for field in page.focusable if field.get("name") == "q"]
    assert box == [
        {
            "tag": "input",
            "id": "site-search",
            "type": "search",
            "name": "q",
            "maxlength": "1000",
            "placeholder": "Search posts",
            "value": "",
        }
    ]
    assert "Search posts" in page.text  # its label


async def test_results_show_snippets_with_the_words_marked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="ada")
    post = await write(
        client,
        author,
        title="Parsnip <script>alert(1)</script>",
        content="Roast the parsnip <script>alert(2)</script> & serve.",
        tags=["roots"],
    )

    response = await client.get("/search", params={"q": "parsnip"})

    assert response.status_code == 200
    page = read_page(response)
    assert page.link("Parsnip <script>alert(1)</script>").path == (
        f"/posts/{post['id']}/{post['slug']}"
    )
    snippets = Snippets(response.text)
    assert snippets.elements == ["mark"]
    assert snippets.marked == ["parsnip"]
    # (ts_headline ends a snippet at its last word: the full stop may go.)
    assert len(snippets.texts) == 1
    assert snippets.texts[0].startswith("Roast the parsnip <script>alert(2)</script> & serve")
    assert page.link("#roots").path == "/tags/roots"
    # The box keeps what was searched.
    assert [f["value"] for f in page.focusable if f.get("name") == "q"] == ["parsnip"]


async def test_no_results_suggests_a_query_that_finds_something(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await write(client, author, title="Turnip soup", content="Turnips, then soup.")

    page = read_page(await client.get("/search", params={"q": '"soup turnip"'}))

    assert "No results" in page.text
    assert "Did you mean to search for soup turnip ?" in page.text  # the words are a link
    suggestion = page.link("soup turnip")
    followed = read_page(await client.get(suggestion.href))
    assert followed.has_link("Turnip soup")


async def test_no_results_and_nothing_to_suggest(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    page = read_page(await client.get("/search", params={"q": "kohlrabi"}))

    assert "No results" in page.text
    assert "Did you mean" not in page.text


async def test_an_empty_search_explains_the_query_language(client: httpx.AsyncClient) -> None:
    for q in ("", "!!!", "-excluded"):
        page = read_page(await client.get("/search", params={"q": q}))
        assert "a quoted phrase" in page.text
        assert "No results" not in page.text


async def test_more_results_follow_a_cursor(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    titles = {(await write(client, author, title=f"Radish {n}"))["title"] for n in range(13)}

    first = read_page(await client.get("/search", params={"q": "radish"}))
    second = read_page(await client.get(first.link("More results →").href))

    shown = [link.text for page in (first, second) for link in page.links if link.text in titles]
    assert sorted(shown) == sorted(titles)
    assert not second.has_link("More results →")


async def test_the_page_filters_by_tag_and_author(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ann, bob = await make_user(session), await make_user(session)
    await write(client, ann, title="Leek by Ann", tags=["green"])
    await write(client, bob, title="Leek by Bob", tags=["green"])
    await write(client, ann, title="Leek, white", tags=["white"])

    by_tag = read_page(await client.get("/search", params={"q": "leek", "tag": "green"}))
    by_ann = read_page(await client.get("/search", params={"q": "leek", "author": ann.id}))

    titles = ("Leek by Ann", "Leek by Bob", "Leek, white")
    assert [by_tag.has_link(title) for title in titles] == [True, True, False]
    assert [by_ann.has_link(title) for title in titles] == [True, False, True]
