"""GET /api/search on both databases: what is found, in what order, and what is never found."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.pagination import BAD_CURSOR
from fastblog.posts.models import Post
from fastblog.resources import Resources
from fastblog.search.service import MAX_RESULTS, encode_offset
from tests.factories import login, make_user
from tests.search.helpers import Markup, edit, found, post_rows, search, write

pytestmark = pytest.mark.anyio


async def test_a_title_match_ranks_above_a_text_only_match(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    in_title = await write(client, author, title="Zephyr winds", content="Weather notes.")
    in_text = await write(
        client, author, title="Weather notes", content="A zephyr came, then another zephyr."
    )
    await write(client, author, title="Unrelated", content="Nothing to see.")

    assert await found(client, "zephyr") == [in_title["id"], in_text["id"]]


async def test_drafts_and_scheduled_posts_are_never_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    published = await write(client, author, title="Marmalade, published")
    await write(client, author, title="Marmalade, a draft", status="draft")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await write(client, author, title="Marmalade, tomorrow", published_at=tomorrow)

    assert await found(client, "marmalade") == [published["id"]]
    # Not even for their author.
    headers = await login(client, author)
    response = await client.get("/api/search", params={"q": "marmalade"}, headers=headers)
    assert [post["id"] for post in response.json()["posts"]] == [published["id"]]


async def test_edits_and_deletes_are_searched_at_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    post = await write(client, author, title="Old title", content="Gooseberry jam.", tags=["fruit"])
    assert await found(client, "gooseberry") == [post["id"]]
    assert await found(client, "fruit") == [post["id"]]

    await edit(client, author, post["id"], content="Quince jelly.", tags=["preserves"])
    assert await found(client, "gooseberry") == []
    assert await found(client, "fruit") == []
    assert await found(client, "quince") == [post["id"]]
    assert await found(client, "preserves") == [post["id"]]

    await edit(client, author, post["id"], title="Sloe gin")
    assert await found(client, "old title") == []
    assert await found(client, "sloe") == [post["id"]]

    await edit(client, author, post["id"], status="draft")
    assert await found(client, "sloe") == []
    await edit(client, author, post["id"], status="published")
    assert await found(client, "sloe") == [post["id"]]

    headers = await login(client, author)
    assert (await client.delete(f"/api/posts/{post['id']}", headers=headers)).status_code == 204
    assert await found(client, "sloe") == []
    assert await found(client, "preserves") == []


async def test_words_phrases_exclusions_and_or(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    red_fox = await write(client, author, title="One", content="The quick red fox ran.")
    fox_red = await write(client, author, title="Two", content="A fox, red as rust, slept.")
    grey = await write(client, author, title="Three", content="A grey wolf howled.")

    assert set(await found(client, "fox red")) == {red_fox["id"], fox_red["id"]}
    assert await found(client, '"red fox"') == [red_fox["id"]]
    assert await found(client, "fox -rust") == [red_fox["id"]]
    assert await found(client, 'fox -"red as rust"') == [red_fox["id"]]
    assert set(await found(client, "wolf or rust")) == {grey["id"], fox_red["id"]}
    assert set(await found(client, "wolf OR quick ran")) == {red_fox["id"]} | set()
    assert await found(client, "wolf fox") == []
    # Stemmed, on both databases: "foxes" finds "fox", "howling" finds "howled".
    assert await found(client, "howling") == [grey["id"]]


async def test_tag_and_author_filters(client: httpx.AsyncClient, session: AsyncSession) -> None:
    ann, bob = await make_user(session), await make_user(session)
    ann_tea = await write(client, ann, title="Tea notes", tags=["tea"])
    ann_other = await write(client, ann, title="More tea notes", tags=["coffee"])
    bob_tea = await write(client, bob, title="Tea, by Bob", tags=["tea"])

    assert set(await found(client, "tea", tag="tea")) == {ann_tea["id"], bob_tea["id"]}
    assert set(await found(client, "tea", author=ann.id)) == {ann_tea["id"], ann_other["id"]}
    assert await found(client, "tea", author=ann.id, tag="Tea") == [ann_tea["id"]]
    assert await found(client, "tea", tag="no such tag!") == []
    assert await found(client, "tea", author=10**9) == []


async def test_a_cursor_walks_every_result_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    ids = {(await write(client, author, title=f"Walnut {n}"))["id"] for n in range(23)}

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = await search(client, "walnut", **params)
        seen += [post["id"] for post in page["posts"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize("cursor", ["nope", "eyJ2MSJd", "WyJ2MSIsInNlYXJjaCIsMTAwMDBd", "%00"])
async def test_a_bad_cursor_is_422_on_cursor(
    client: httpx.AsyncClient, session: AsyncSession, cursor: str
) -> None:
    response = await client.get("/api/search", params={"q": "x", "cursor": cursor})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert response.json()["detail"][0]["msg"] == BAD_CURSOR


async def test_a_cursor_of_another_list_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from fastblog.pagination import Keyset

    cursor = Keyset(at=datetime.now(UTC), id=3).encode()
    response = await client.get("/api/search", params={"q": "x", "cursor": cursor})

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == BAD_CURSOR


async def test_snippets_mark_the_words_and_escape_everything_else(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await write(
        client,
        author,
        title="<script>alert('title')</script> pumpkin",
        content="Before <script>alert(1)</script> the **pumpkin** & <b>soup</b> after.",
    )

    post = (await search(client, "pumpkin"))["posts"][0]

    snippet = Markup(post["snippet"])
    assert set(snippet.tags) == {"mark"}
    assert snippet.marked == ["pumpkin"]
    assert "<script>alert(1)</script>" in snippet.text
    assert "<b>soup</b>" in snippet.text
    assert "**" not in snippet.text  # the text, not the Markdown
    assert post["title"] == "<script>alert('title')</script> pumpkin"


async def test_nothing_found_suggests_a_looser_query(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await write(client, author, title="Apple pie", content="Bake the apple, then the crust.")
    await write(client, author, title="Apple tart", content="Butter, sugar, an apple.")

    assert (await search(client, '"crust apple"'))["suggestion"] == "crust apple"
    assert (await search(client, "apple banana"))["suggestion"] == "apple or banana"
    # The reader's exclusions stay: the suggestion finds the tart, not the crusty pie.
    assert (await search(client, "apple banana -crust"))["suggestion"] == ("apple or banana -crust")
    assert (await search(client, "pie banana -crust"))["suggestion"] is None
    assert (await search(client, "banana"))["suggestion"] is None
    assert (await search(client, "apple"))["suggestion"] is None


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        "*",
        "-",
        "NEAR(",
        "AND OR NOT",
        "title:secret",
        "a:b",
        "^",
        "(",
        ")",
        "' OR 1=1 --",
        "x" * 1000,
        "word " * 200,
        "nul\x00byte",
        "😀 🎉",
        "שלום עולם",
        "مرحبا",
        "\u0301",
        "\ue000",
        "or",
        "-or",
        "a or",
    ],
)
async def test_any_query_is_safe(client: httpx.AsyncClient, session: AsyncSession, q: str) -> None:
    author = await make_user(session)
    await write(client, author, title="Secret title", content="Words, and more words.")

    for path in ("/api/search", "/search"):
        response = await client.get(path, params={"q": q})
        assert response.status_code == 200, (path, response.text)


async def test_a_query_over_the_limit_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/search", params={"q": "x" * 1001})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]
    assert (await client.get("/search", params={"q": "x" * 1001})).status_code == 422


async def test_the_thousandth_result_is_the_last_one_offered(
    client: httpx.AsyncClient, session: AsyncSession, resources: Resources
) -> None:
    """Pages stop at MAX_RESULTS however many posts match: the page that reaches it is a
    short one and leads nowhere, and a cursor past it is refused."""
    author = await make_user(session)
    async with resources.database.transaction() as loading:
        await loading.execute(insert(Post), post_rows(author.id, MAX_RESULTS + 5, "quinoa"))
        await loading.commit()

    near_the_end = await search(client, "quinoa", cursor=encode_offset(MAX_RESULTS - 25))
    last = await search(client, "quinoa", limit=20, cursor=near_the_end["next_cursor"])

    assert len(near_the_end["posts"]) == 10
    assert len(last["posts"]) == 15
    assert last["next_cursor"] is None
    for offset in (0, MAX_RESULTS):
        refused = await client.get(
            "/api/search", params={"q": "quinoa", "cursor": encode_offset(offset)}
        )
        assert refused.status_code == 422, offset
    deepest = await search(client, "quinoa", limit=1, cursor=encode_offset(MAX_RESULTS - 1))
    assert (len(deepest["posts"]), deepest["next_cursor"]) == (1, None)
    second = await search(client, "quinoa", limit=1, cursor=encode_offset(1))
    assert (len(second["posts"]), second["next_cursor"]) == (1, encode_offset(2))


async def test_a_looser_query_is_suggested_only_when_nothing_was_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    for n in range(3):
        await write(client, author, title=f"Fennel {n}", content="Fennel and orange.")

    found_all = await search(client, "fennel orange", limit=3)
    past_the_end = await search(client, "fennel orange", limit=2, cursor=encode_offset(5))

    # Exactly a page of results: no suggestion, and no next page to offer.
    assert (len(found_all["posts"]), found_all["next_cursor"]) == (3, None)
    assert found_all["suggestion"] is None
    assert (past_the_end["posts"], past_the_end["suggestion"]) == ([], None)


async def test_a_suggestion_keeps_the_author_and_tag_asked_for(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A looser query is suggested only if it finds something within the same filters:
    a link that leads to an empty page would be no help."""
    ann, bob = await make_user(session), await make_user(session)
    await write(client, ann, title="Apricot jam", tags=["jam"])
    await write(client, bob, title="Bob's notes", content="Nothing sweet.", tags=["notes"])

    assert (await search(client, "apricot cherry"))["suggestion"] == "apricot or cherry"
    assert (await search(client, "apricot or plum cherry"))["suggestion"] == (
        "apricot or plum or cherry"
    )
    by_bob = await search(client, "apricot cherry", author=bob.id)
    in_notes = await search(client, "apricot cherry", tag="notes")
    assert (by_bob["suggestion"], in_notes["suggestion"]) == (None, None)


async def test_a_post_found_by_its_title_alone_has_an_empty_snippet(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """No text to quote (the post is a rule and nothing else): nothing is made up."""
    author = await make_user(session)
    await write(client, author, title="Okra", content="---")

    assert [post["snippet"] for post in (await search(client, "okra"))["posts"]] == [""]


async def test_results_carry_their_content_only_when_asked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A page of results is a list: what a list needs (the snippet, the excerpt), and the
    Markdown source and its HTML with `?content=true`, as the other lists give them."""
    author = await make_user(session)
    await write(client, author, title="Rhubarb crumble", content="Bake the **rhubarb**.")

    listed = (await search(client, "rhubarb"))["posts"]
    full = (await search(client, "rhubarb", content="true"))["posts"]

    assert not {"content", "content_html"} & set(listed[0])
    assert full[0]["content"] == "Bake the **rhubarb**."
    assert full[0]["content_html"] == "<p>Bake the <strong>rhubarb</strong>.</p>\n"
    assert {name: value for name, value in full[0].items() if "content" not in name} == listed[0]
