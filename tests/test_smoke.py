import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_register_login_post_and_read(client: httpx.AsyncClient) -> None:
    user = await client.post(
        "/api/users",
        json={"username": "corey", "email": "c@example.com", "password": "s3cret-password"},
    )
    assert user.status_code == 201, user.text
    assert "password" not in user.text
    assert "argon2" not in user.text
    token = await client.post(
        "/api/users/token", data={"username": "corey", "password": "s3cret-password"}
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    post = await client.post(
        "/api/posts", json={"title": "Hello", "content": "World"}, headers=headers
    )
    assert post.status_code == 201, post.text
    assert post.json()["author"]["username"] == "corey"
    listing = await client.get("/api/posts")
    assert listing.json()["total"] == 1
    page = await client.get("/")
    assert "Hello" in page.text
