import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_create_user_then_post_then_list(client: httpx.AsyncClient) -> None:
    user = await client.post("/api/users", json={"username": "corey", "email": "c@example.com"})
    assert user.status_code == 201, user.text
    post = await client.post(
        "/api/posts", json={"title": "Hello", "content": "World", "user_id": user.json()["id"]}
    )
    assert post.status_code == 201, post.text
    listing = await client.get("/api/posts")
    assert listing.json()["total"] == 1
    page = await client.get("/")
    assert "Hello" in page.text
