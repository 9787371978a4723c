"""What a post's fields accept, the same through the form and the API: tags, publication
dates, titles with bidi controls, line ends; and how the API names a scheduled post."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import browser_login, submit
from tests.factories import api_create_post, login, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio


async def _by_form(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    return await submit(client, "/posts/new", {"title": "T", "content": "C", **fields})


async def _stored(client: httpx.AsyncClient, author: object, post_id: int) -> dict[str, object]:
    response = await client.get(f"/api/posts/{post_id}", headers=await login(client, author))
    return dict(response.json())


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Python, , Web Development,", ["python", "web-development"]),
        ("ÉTÉ, python, PYTHON", ["été", "python"]),
        (" , ", []),
    ],
)
async def test_tags_follow_one_rule_in_the_form_and_the_api(
    client: httpx.AsyncClient, session: AsyncSession, typed: str, stored: list[str]
) -> None:
    author = await make_user(session)
    await browser_login(client, author)

    by_form = await _by_form(client, tags=typed)
    by_api = await api_create_post(client, author, tags=typed.split(","))

    assert by_form.status_code == 303
    assert by_api.status_code == 201
    assert sorted(by_api.json()["tags"]) == sorted(stored)
    assert sorted((await _stored(client, author, 1))["tags"]) == sorted(stored)


@pytest.mark.parametrize("typed", ["c++", "a,b,c,d,e,f", "x" * 31])
async def test_a_bad_tag_gets_the_same_message_from_the_form_and_the_api(
    client: httpx.AsyncClient, session: AsyncSession, typed: str
) -> None:
    author = await make_user(session)
    await browser_login(client, author)

    by_form = await _by_form(client, tags=typed)
    by_api = await api_create_post(client, author, tags=typed.split(","))

    assert by_form.status_code == by_api.status_code == 422
    [error] = by_api.json()["detail"]
    assert error["msg"] in read_page(by_form).text


async def test_the_form_and_the_api_describe_tags_alike(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await browser_login(client, await make_user(session))

    hint = read_page(await client.get("/posts/new")).text
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    described = schema["PostCreate"]["properties"]["tags"]["description"]

    rule = described.split(": ", 1)[1].rstrip(".")
    assert rule in hint
    assert "letters of any script" in rule


@pytest.mark.parametrize(
    "moment", ["1969-12-31T23:59:00Z", "2101-01-01T00:00:00Z", "0206-03-03T09:00:00Z"]
)
async def test_a_publication_date_outside_1970_to_2100_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, moment: str
) -> None:
    author = await make_user(session)
    await browser_login(client, author)

    by_api = await api_create_post(client, author, published_at=moment)
    by_form = await _by_form(client, published_at=moment.removesuffix(":00Z"))

    assert by_api.status_code == by_form.status_code == 422
    [error] = by_api.json()["detail"]
    assert error["loc"] == ["body", "published_at"]
    assert error["msg"] == "The publication date must be between 1970 and 2100."
    assert error["msg"] in read_page(by_form).text


@pytest.mark.parametrize("moment", ["1970-01-01T00:00:00Z", "2100-12-31T23:59:00Z"])
async def test_the_edges_of_the_range_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession, moment: str
) -> None:
    response = await api_create_post(client, await make_user(session), published_at=moment)

    assert response.status_code == 201


async def test_the_api_calls_a_post_with_a_future_date_scheduled(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()

    created = await api_create_post(client, author, published_at=later)
    now = await api_create_post(client, author)
    draft = await api_create_post(client, author, status="draft")

    assert created.json()["status"] == "scheduled"
    assert (await _stored(client, author, created.json()["id"]))["status"] == "scheduled"
    assert now.json()["status"] == "published"
    assert draft.json()["status"] == "draft"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("\u202eevil.exe\u202c and more", "evil.exe and more"),
        (
            "\u2067\u0645\u0631\u062d\u0628\u0627\u2069 world",
            "\u0645\u0631\u062d\u0628\u0627 world",
        ),
        ("Plain title", "Plain title"),
    ],
)
async def test_bidi_controls_are_stripped_from_titles(
    client: httpx.AsyncClient, session: AsyncSession, sent: str, stored: str
) -> None:
    author = await make_user(session)
    await browser_login(client, author)

    by_api = await api_create_post(client, author, title=sent)
    by_form = await _by_form(client, title=sent)

    assert by_api.status_code == 201
    assert by_api.json()["title"] == stored
    assert by_form.status_code == 303
    assert (await _stored(client, author, 2))["title"] == stored
    page = await client.get(f"/posts/{by_api.json()['id']}")
    assert "\u202e" not in (await client.get(page.headers["location"])).text


async def test_a_title_of_only_bidi_controls_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await api_create_post(client, await make_user(session), title="\u202e\u202c ")

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "A title needs some visible text."


async def test_line_ends_are_stored_as_line_feeds(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    await browser_login(client, author)

    by_api = await api_create_post(client, author, content="one\r\ntwo\rthree\n")
    by_form = await _by_form(client, content="one\r\ntwo\rthree\n")
    comment = await client.post(
        f"/api/posts/{by_api.json()['id']}/comments",
        json={"body": "a\r\nb\rc"},
        headers=await login(client, author),
    )

    assert by_api.json()["content"] == "one\ntwo\nthree\n"
    assert by_form.status_code == 303
    assert (await _stored(client, author, 2))["content"] == "one\ntwo\nthree\n"
    assert comment.json()["body"] == "a\nb\nc"


async def test_a_comment_typed_in_a_textarea_fits_its_limit_with_crlf_line_ends(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    [post] = [(await api_create_post(client, author)).json()]
    body = "abcd\r\n" * 1_000  # 5,000 characters as a textarea counts them, 6,000 as sent

    response = await client.post(
        f"/api/posts/{post['id']}/comments",
        json={"body": body},
        headers=await login(client, author),
    )

    assert response.status_code == 201
