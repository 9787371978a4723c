from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import utcnow
from fastblog.exceptions import NotFoundError
from fastblog.posts.queries import fetch_page
from fastblog.resources import Resources
from tests.factories import OMIT, api_create_post, api_create_user, login, make_posts, make_user

pytestmark = pytest.mark.anyio


def titles(page: httpx.Response) -> list[str]:
    return [post["title"] for post in page.json()["posts"]]


async def test_create_post_returns_it_with_its_author(client: httpx.AsyncClient) -> None:
    author = (await api_create_user(client, username="corey")).json()
    before = datetime.now(UTC)

    response = await api_create_post(client, author, title="Hello", content="World")

    after = datetime.now(UTC)
    assert response.status_code == 201
    post = response.json()
    assert post == {
        "id": post["id"],
        "title": "Hello",
        "slug": "hello",
        "content": "World",
        "content_html": "<p>World</p>\n",
        "excerpt": "World",
        "tags": [],
        "status": "published",
        "published_at": post["date_posted"],
        "updated_at": post["date_posted"],
        "user_id": author["id"],
        "date_posted": post["date_posted"],
        "comments": 0,
        "author": {
            "id": author["id"],
            "username": "corey",
            "image_file": None,
            "image_path": "/static/img/default-avatar.png",
        },
        "likes": 0,
        "liked": False,
        "comments_enabled": True,
        "feature_image": None,
        "feature_image_alt": None,
    }
    posted = datetime.fromisoformat(post["date_posted"])
    assert posted.utcoffset() == timedelta(0)
    assert before <= posted <= after


async def test_a_created_post_can_be_read_back(client: httpx.AsyncClient) -> None:
    author = (await api_create_user(client)).json()
    created = (await api_create_post(client, author, title="Hello", content="World")).json()

    response = await client.get(f"/api/posts/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


async def test_date_posted_keeps_its_utc_offset(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    moment = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    [post] = await make_posts(session, author, 1, start=moment - timedelta(minutes=1))

    body = (await client.get(f"/api/posts/{post.id}")).json()

    posted = datetime.fromisoformat(body["date_posted"])
    assert posted.utcoffset() == timedelta(0)
    assert posted == moment


async def test_the_author_is_the_logged_in_user_whatever_the_body_says(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    other = await make_user(session)

    response = await api_create_post(client, author, user_id=other.id)

    assert response.status_code == 201
    assert response.json()["user_id"] == author.id
    assert response.json()["author"]["id"] == author.id


async def test_a_token_of_a_deleted_user_cannot_post(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    headers = await login(client, author)
    assert (await client.delete(f"/api/users/{author.id}", headers=headers)).status_code == 204

    response = await client.post("/api/posts", json={"title": "t", "content": "c"}, headers=headers)

    assert response.status_code == 401
    assert (await client.get("/api/posts")).json()["total"] == 0


@pytest.mark.parametrize("tag", [None, "python"])
async def test_a_users_list_read_after_their_account_is_gone_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession, resources: Resources, tag: str | None
) -> None:
    """A user's list (page or API) finds the user first, then reads the posts in a later
    snapshot: an account deleted in between must make the list a 404, never an empty
    "no posts yet", while another account's empty list stays a list. The read after the
    deletion, as that later snapshot sees it."""
    stays = await make_user(session)
    gone = await make_user(session)
    headers = await login(client, gone)
    assert (await client.delete(f"/api/users/{gone.id}", headers=headers)).status_code == 204

    with pytest.raises(NotFoundError, match="User not found"):
        await fetch_page(resources.database, now=utcnow(), limit=10, user_id=gone.id, tag=tag)
    kept = await fetch_page(resources.database, now=utcnow(), limit=10, user_id=stays.id, tag=tag)
    assert (kept.posts, kept.total) == ([], 0)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": OMIT}, "title"),
        ({"title": None}, "title"),
        ({"content": ""}, "content"),
        ({"content": OMIT}, "content"),
        ({"content": "nul \x00 byte"}, "content"),
    ],
)
async def test_create_post_refuses_invalid_fields(
    client: httpx.AsyncClient, session: AsyncSession, fields: dict[str, object], field: str
) -> None:
    author = await make_user(session)

    response = await api_create_post(client, author, **fields)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]
    assert (await client.get("/api/posts")).json()["total"] == 0


async def test_a_100_character_title_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)

    response = await api_create_post(client, author, title="x" * 100)

    assert response.status_code == 201
    assert response.json()["title"] == "x" * 100


async def test_get_unknown_post_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/posts/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "Post not found"}


@pytest.mark.parametrize("post_id", ["0", "abc", str(2**63)])
async def test_post_id_out_of_range_is_422(client: httpx.AsyncClient, post_id: str) -> None:
    response = await client.get(f"/api/posts/{post_id}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "post_id"]


async def test_the_largest_post_id_is_simply_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/posts/{2**63 - 1}")

    assert response.status_code == 404


async def test_list_posts_is_newest_first_with_authors(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    start = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    await make_posts(session, ada, 2, start=start)
    await make_posts(session, bob, 2, start=start + timedelta(seconds=30))

    response = await client.get("/api/posts")

    assert response.status_code == 200
    assert titles(response) == ["Post 2 by bob", "Post 2 by ada", "Post 1 by bob", "Post 1 by ada"]
    authors = [post["author"]["username"] for post in response.json()["posts"]]
    assert authors == ["bob", "ada", "bob", "ada"]
    assert all("email" not in post["author"] for post in response.json()["posts"])


@pytest.mark.parametrize("path", ["/api/posts", "/api/users/{user_id}/posts"])
async def test_a_list_carries_content_only_when_asked(
    client: httpx.AsyncClient, session: AsyncSession, path: str
) -> None:
    """A list is excerpts (a page of full posts was several times the bytes); a client that
    shows whole posts asks `?content=true` and gets the source and its HTML, as one post has."""
    ada = await make_user(session, username="ada")
    await api_create_post(client, ada, title="Hello", content="**World** and more words.")
    url = path.format(user_id=ada.id)

    listed = (await client.get(url)).json()["posts"]
    full = (await client.get(url, params={"content": "true"})).json()["posts"]

    assert [post["excerpt"] for post in listed] == ["World and more words."]
    assert not {"content", "content_html"} & set(listed[0])
    assert full[0]["content"] == "**World** and more words."
    assert full[0]["content_html"] == "<p><strong>World</strong> and more words.</p>\n"
    assert {name: value for name, value in full[0].items() if "content" not in name} == listed[0]
    refused = await client.get(url, params={"content": "maybe"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query", "content"]


async def test_list_posts_with_no_posts(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/posts")

    assert response.status_code == 200
    assert response.json() == {
        "posts": [],
        "total": 0,
        "skip": 0,
        "limit": 10,
        "has_more": False,
        "next_cursor": None,
    }


async def test_list_posts_pages_through_everything(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="ada")
    await make_posts(session, author, 25)

    first = (await client.get("/api/posts")).json()
    second = (await client.get("/api/posts", params={"skip": 10, "limit": 10})).json()
    last = (await client.get("/api/posts", params={"skip": 20, "limit": 10})).json()

    assert (first["total"], first["skip"], first["limit"], first["has_more"]) == (25, 0, 10, True)
    assert (second["skip"], second["has_more"]) == (10, True)
    assert (last["skip"], last["has_more"], len(last["posts"])) == (20, False, 5)
    seen = [post["title"] for page in (first, second, last) for post in page["posts"]]
    assert seen == [f"Post {n} by ada" for n in range(25, 0, -1)]


async def test_list_posts_past_the_end_is_empty(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_posts(session, await make_user(session), 3)

    response = await client.get("/api/posts", params={"skip": 3})

    assert response.json() == {
        "posts": [],
        "total": 3,
        "skip": 3,
        "limit": 10,
        "has_more": False,
        "next_cursor": None,
    }


async def test_list_posts_accepts_limit_1_and_100(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_posts(session, await make_user(session), 101)

    one = (await client.get("/api/posts", params={"limit": 1})).json()
    hundred = (await client.get("/api/posts", params={"limit": 100})).json()

    assert (len(one["posts"]), one["has_more"]) == (1, True)
    assert (len(hundred["posts"]), hundred["has_more"], hundred["total"]) == (100, True, 101)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"skip": -1}, "skip"),
    ],
)
async def test_list_posts_refuses_bad_paging(
    client: httpx.AsyncClient, params: dict[str, object], field: str
) -> None:
    response = await client.get("/api/posts", params=params)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


async def create_one(client: httpx.AsyncClient, session: AsyncSession) -> dict[str, Any]:
    """A post by corey titled "Before", as the API returned it."""
    author = await make_user(session, username="corey")
    response = await api_create_post(client, author, title="Before", content="Old words.")
    assert response.status_code == 201
    client.headers.update(await login(client, author))  # later calls act as the author
    post: dict[str, Any] = response.json()
    return post


async def test_put_replaces_title_and_content(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    post = await create_one(client, session)

    response = await client.put(
        f"/api/posts/{post['id']}", json={"title": "After", "content": "New words."}
    )

    assert response.status_code == 200
    replaced = response.json()
    assert (replaced["title"], replaced["content"]) == ("After", "New words.")
    assert replaced["author"]["username"] == "corey"
    assert (replaced["id"], replaced["date_posted"]) == (post["id"], post["date_posted"])
    assert (await client.get(f"/api/posts/{post['id']}")).json() == replaced


@pytest.mark.parametrize(
    "body",
    [
        {"title": "After"},
        {"content": "New words."},
        {"title": "After", "content": None},
        {"title": "", "content": "New words."},
    ],
)
async def test_put_requires_every_field(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, object]
) -> None:
    post = await create_one(client, session)

    response = await client.put(f"/api/posts/{post['id']}", json=body)

    assert response.status_code == 422
    assert (await client.get(f"/api/posts/{post['id']}")).json() == post


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": "After"}, ("After", "Old words.")),
        ({"content": "New words."}, ("Before", "New words.")),
        ({}, ("Before", "Old words.")),
    ],
)
async def test_patch_changes_only_the_fields_sent(
    client: httpx.AsyncClient,
    session: AsyncSession,
    change: dict[str, str],
    expected: tuple[str, str],
) -> None:
    post = await create_one(client, session)

    response = await client.patch(f"/api/posts/{post['id']}", json=change)

    assert response.status_code == 200
    patched = response.json()
    assert (patched["title"], patched["content"]) == expected
    assert patched["author"]["username"] == "corey"
    assert patched["date_posted"] == post["date_posted"]
    assert (await client.get(f"/api/posts/{post['id']}")).json() == patched


@pytest.mark.parametrize(
    "change",
    [{"title": None}, {"content": None}, {"title": ""}, {"title": "x" * 101}],
)
async def test_patch_refuses_null_and_invalid_fields(
    client: httpx.AsyncClient, session: AsyncSession, change: dict[str, object]
) -> None:
    post = await create_one(client, session)

    response = await client.patch(f"/api/posts/{post['id']}", json=change)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", *change]]
    assert (await client.get(f"/api/posts/{post['id']}")).json() == post


async def test_delete_post(client: httpx.AsyncClient, session: AsyncSession) -> None:
    author = await make_user(session)
    doomed, kept = await make_posts(session, author, 2)

    response = await client.delete(f"/api/posts/{doomed.id}", headers=await login(client, author))

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/posts/{doomed.id}")).status_code == 404
    assert [post["id"] for post in (await client.get("/api/posts")).json()["posts"]] == [kept.id]
    assert (await client.get(f"/api/users/{author.id}")).status_code == 200


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PUT", {"title": "t", "content": "c"}),
        ("PATCH", {"title": "t"}),
        ("DELETE", None),
    ],
)
async def test_writing_to_an_unknown_post_is_404(
    client: httpx.AsyncClient, session: AsyncSession, method: str, body: dict[str, str] | None
) -> None:
    headers = await login(client, await make_user(session))

    response = await client.request(method, "/api/posts/999", json=body, headers=headers)

    assert response.status_code == 404
    assert response.json() == {"detail": "Post not found"}


async def test_a_post_by_the_second_of_two_accounts_is_theirs_alone(
    client: httpx.AsyncClient,
) -> None:
    """The write names its author by id and by the token's version of the account: a post
    without tags, written by the second account, is that account's, and the only one written
    (both accounts are at the same version, so the two conditions must hold together)."""
    await api_create_user(client, username="first")
    second = (await api_create_user(client, username="second")).json()

    response = await api_create_post(client, second, title="Mine", content="Only mine.")

    assert response.status_code == 201
    assert response.json()["author"]["username"] == "second"
    assert response.json()["user_id"] == second["id"]
    listed = (await client.get("/api/posts")).json()
    assert listed["total"] == 1
    assert [(post["title"], post["author"]["username"]) for post in listed["posts"]] == [
        ("Mine", "second")
    ]
