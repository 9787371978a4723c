import anyio
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.models import Post
from tests.factories import OMIT, api_create_user, login, make_posts, make_user

pytestmark = pytest.mark.anyio

DEFAULT_AVATAR = "/static/img/default-avatar.png"


async def test_create_user_returns_the_account(client: httpx.AsyncClient) -> None:
    response = await api_create_user(client, username="corey", email="corey@example.com")

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "username": "corey",
        "email": "corey@example.com",
        "image_file": None,
        "image_path": DEFAULT_AVATAR,
        "role": "owner",  # the site's first account
        "bio": None,
        "bio_html": None,
        "website": None,
        "notify_by_mail": False,
        "unread_notifications": 0,
    }
    assert isinstance(body["id"], int)


async def test_the_default_avatar_is_served(client: httpx.AsyncClient) -> None:
    user = (await api_create_user(client)).json()

    picture = await client.get(user["image_path"])

    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"


async def test_email_is_stored_in_lower_case(client: httpx.AsyncClient) -> None:
    response = await api_create_user(client, email="Corey@Example.COM")

    assert response.status_code == 201
    assert response.json()["email"] == "corey@example.com"


@pytest.mark.parametrize(
    ("first", "second", "detail"),
    [
        ({"username": "corey"}, {"username": "corey"}, "Username already taken"),
        ({"username": "corey"}, {"username": "Corey"}, "Username already taken"),
        ({"email": "c@example.com"}, {"email": "c@example.com"}, "Email already registered"),
        ({"email": "c@example.com"}, {"email": "C@EXAMPLE.com"}, "Email already registered"),
    ],
)
async def test_create_user_refuses_a_taken_username_or_email(
    client: httpx.AsyncClient, first: dict[str, str], second: dict[str, str], detail: str
) -> None:
    assert (await api_create_user(client, **first)).status_code == 201

    response = await api_create_user(client, **second)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "x" * 51}, "username"),
        ({"username": OMIT}, "username"),
        ({"username": None}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 61 + "@" + "b" * 55 + ".com"}, "email"),  # 121 characters
        ({"email": OMIT}, "email"),
    ],
)
async def test_create_user_refuses_invalid_fields(
    client: httpx.AsyncClient, fields: dict[str, object], field: str
) -> None:
    response = await api_create_user(client, **fields)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


async def test_longest_valid_username_and_email_are_accepted(client: httpx.AsyncClient) -> None:
    email = "a" * 60 + "@" + "b" * 55 + ".com"  # 120 characters
    response = await api_create_user(client, username="x" * 50, email=email)

    assert response.status_code == 201
    assert response.json()["email"] == email


async def test_get_user_is_the_public_profile_without_email(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, username="corey", image_file="corey.png")

    response = await client.get(f"/api/users/{user.id}")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "corey",
        "image_file": "corey.png",
        "role": "author",
        "followers": 0,
        "following": 0,
        "posts": 0,
        "followed_by_me": False,
        "image_path": "/media/profile_pics/corey.png",
        "bio": None,
        "bio_html": None,
        "website": None,
    }


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_user_is_404(
    client: httpx.AsyncClient, session: AsyncSession, method: str
) -> None:
    headers = await login(client, await make_user(session))

    response = await client.request(
        method, "/api/users/999", json={"username": "x"}, headers=headers
    )

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


@pytest.mark.parametrize("user_id", ["0", "-1", "abc", str(2**63)])
async def test_user_id_out_of_range_is_422(client: httpx.AsyncClient, user_id: str) -> None:
    response = await client.get(f"/api/users/{user_id}")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "user_id"]


async def test_user_posts_lists_only_theirs_newest_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    corey = await make_user(session, username="corey")
    other = await make_user(session)
    await make_posts(session, corey, 3)
    await make_posts(session, other, 2)

    response = await client.get(f"/api/users/{corey.id}/posts", params={"limit": 2})

    assert response.status_code == 200
    page = response.json()
    assert [post["title"] for post in page["posts"]] == ["Post 3 by corey", "Post 2 by corey"]
    assert {post["author"]["username"] for post in page["posts"]} == {"corey"}
    assert (page["total"], page["skip"], page["limit"], page["has_more"]) == (3, 0, 2, True)

    rest = (await client.get(f"/api/users/{corey.id}/posts", params={"skip": 2})).json()
    assert [post["title"] for post in rest["posts"]] == ["Post 1 by corey"]
    assert rest["has_more"] is False


async def test_user_posts_of_a_user_without_posts_is_an_empty_page(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)

    response = await client.get(f"/api/users/{user.id}/posts")

    assert response.status_code == 200
    assert response.json() == {
        "posts": [],
        "total": 0,
        "skip": 0,
        "limit": 10,
        "has_more": False,
        "next_cursor": None,
    }


# A tag, and a text no tag can be (its page would be empty whoever the user): both a 404.
@pytest.mark.parametrize("query", ["", "?tag=python", "?tag=no!tag"])
async def test_user_posts_of_unknown_user_is_404(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/users/999/posts{query}")

    assert response.status_code == 404
    assert response.json() == {"detail": "User not found"}


@pytest.mark.parametrize("limit", [0, 101])
async def test_user_posts_limit_outside_1_to_100_is_422(
    client: httpx.AsyncClient, session: AsyncSession, limit: int
) -> None:
    user = await make_user(session)

    response = await client.get(f"/api/users/{user.id}/posts", params={"limit": limit})

    assert response.status_code == 422


async def test_patch_user_changes_only_the_fields_sent(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, username="corey", email="corey@example.com")
    client.headers.update(await login(client, user))

    renamed = await client.patch(f"/api/users/{user.id}", json={"username": "coreyms"})
    assert renamed.status_code == 200
    assert renamed.json()["username"] == "coreyms"
    assert renamed.json()["email"] == "corey@example.com"

    moved = await client.patch(f"/api/users/{user.id}", json={"email": "New@Example.com"})
    assert moved.status_code == 200
    assert (moved.json()["username"], moved.json()["email"]) == ("coreyms", "new@example.com")

    profile = (await client.get(f"/api/users/{user.id}")).json()
    assert profile["username"] == "coreyms"


async def test_patch_user_with_nothing_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, username="corey", email="corey@example.com")
    client.headers.update(await login(client, user))

    response = await client.patch(f"/api/users/{user.id}", json={})

    assert response.status_code == 200
    assert (response.json()["username"], response.json()["email"]) == (
        "corey",
        "corey@example.com",
    )


async def test_patch_user_may_keep_their_own_username_and_email(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, username="corey", email="corey@example.com")
    client.headers.update(await login(client, user))

    response = await client.patch(
        f"/api/users/{user.id}", json={"username": "Corey", "email": "corey@example.com"}
    )

    assert response.status_code == 200
    assert response.json()["username"] == "Corey"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"username": "taken"}, "Username already taken"),
        ({"username": "TAKEN"}, "Username already taken"),
        ({"email": "taken@example.com"}, "Email already registered"),
    ],
)
async def test_patch_user_refuses_another_users_username_or_email(
    client: httpx.AsyncClient, session: AsyncSession, change: dict[str, str], detail: str
) -> None:
    await make_user(session, username="taken", email="taken@example.com")
    user = await make_user(session, username="corey", email="corey@example.com")
    client.headers.update(await login(client, user))

    response = await client.patch(f"/api/users/{user.id}", json=change)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    profile = (await client.get(f"/api/users/{user.id}")).json()
    assert profile["username"] == "corey"


@pytest.mark.parametrize(
    "change",
    [{"username": None}, {"email": None}, {"username": ""}, {"email": "nope"}],
)
async def test_patch_user_refuses_null_and_invalid_fields(
    client: httpx.AsyncClient, session: AsyncSession, change: dict[str, object]
) -> None:
    user = await make_user(session, username="corey")
    client.headers.update(await login(client, user))

    response = await client.patch(f"/api/users/{user.id}", json=change)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", *change]]
    assert (await client.get(f"/api/users/{user.id}")).json()["username"] == "corey"


async def test_delete_user_takes_their_posts_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    leaving = await make_user(session)
    staying = await make_user(session)
    gone = await make_posts(session, leaving, 3)
    kept = await make_posts(session, staying, 2)

    response = await client.delete(f"/api/users/{leaving.id}", headers=await login(client, leaving))

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"/api/users/{leaving.id}")).status_code == 404
    assert (await client.get(f"/api/posts/{gone[0].id}")).status_code == 404
    listing = (await client.get("/api/posts")).json()
    assert sorted(post["id"] for post in listing["posts"]) == sorted(post.id for post in kept)
    orphans = select(func.count()).select_from(Post).where(Post.user_id == leaving.id)
    assert await session.scalar(orphans) == 0


async def test_a_deleted_users_name_can_be_taken_again(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, username="corey", email="corey@example.com")
    await client.delete(f"/api/users/{user.id}", headers=await login(client, user))

    response = await api_create_user(client, username="corey", email="corey@example.com")

    assert response.status_code == 201


async def test_simultaneous_signups_for_one_username_make_one_account(
    client: httpx.AsyncClient,
) -> None:
    """However the race between sign-ups falls, and whatever the case of the name."""
    responses: list[httpx.Response] = []

    async def sign_up(n: int) -> None:
        username = ("corey", "Corey", "COREY")[n % 3]
        responses.append(
            await api_create_user(client, username=username, email=f"corey{n}@example.com")
        )

    async with anyio.create_task_group() as group:
        for n in range(12):
            group.start_soon(sign_up, n)

    assert sorted(response.status_code for response in responses) == [201] + [400] * 11
    assert all(response.json()["detail"] for response in responses if response.status_code == 400)
