from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_posts, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

API_ROUTES = {
    ("POST", "/api/users"),
    ("POST", "/api/media"),
    ("GET", "/api/users/{user_id}"),
    ("PATCH", "/api/users/{user_id}"),
    ("DELETE", "/api/users/{user_id}"),
    ("GET", "/api/users/{user_id}/posts"),
    ("GET", "/api/posts"),
    ("POST", "/api/posts"),
    ("GET", "/api/posts/{post_id}"),
    ("PUT", "/api/posts/{post_id}"),
    ("PATCH", "/api/posts/{post_id}"),
    ("DELETE", "/api/posts/{post_id}"),
    ("GET", "/api/posts/{post_id}/comments"),
    ("POST", "/api/posts/{post_id}/comments"),
    ("DELETE", "/api/posts/{post_id}/comments/{comment_id}"),
    ("GET", "/api/tags"),
    ("GET", "/api/search"),
    ("POST", "/api/posts/{post_id}/like"),
    ("DELETE", "/api/posts/{post_id}/like"),
    ("POST", "/api/users/{user_id}/follow"),
    ("DELETE", "/api/users/{user_id}/follow"),
    ("GET", "/api/feed"),
    ("GET", "/api/notifications"),
    ("POST", "/api/notifications/read"),
    ("GET", "/api/users/me"),
    ("PATCH", "/api/users/me/password"),
    ("PATCH", "/api/users/me/picture"),
    ("DELETE", "/api/users/me/picture"),
    ("POST", "/api/users/token"),
    ("POST", "/api/users/forgot-password"),
    ("POST", "/api/users/reset-password"),
    ("GET", "/api/site"),
    ("PATCH", "/api/site"),
    ("POST", "/api/subscriptions"),
    ("GET", "/api/subscriptions"),
    ("GET", "/api/subscriptions/export"),
    ("DELETE", "/api/subscriptions/{subscription_id}"),
    ("GET", "/api/pages"),
    ("POST", "/api/pages"),
    ("GET", "/api/pages/{slug}"),
    ("PATCH", "/api/pages/{slug}"),
    ("DELETE", "/api/pages/{slug}"),
    ("POST", "/api/invitations"),
    ("GET", "/api/invitations"),
    ("DELETE", "/api/invitations/{invitation_id}"),
    ("PUT", "/api/users/{user_id}/role"),
    ("PATCH", "/api/users/me"),
    ("GET", "/api/comments"),
    ("POST", "/api/comments/{comment_id}/approve"),
    ("DELETE", "/api/comments/{comment_id}"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
}


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


async def test_openapi_lists_every_route_and_no_page(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)

    listed = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    assert listed == API_ROUTES


async def test_every_route_has_a_one_line_summary_and_a_description(
    client: httpx.AsyncClient,
) -> None:
    schema = await openapi(client)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            route = f"{method.upper()} {path}"
            assert operation.get("description", "").strip(), f"{route} has no description"
            summary = operation.get("summary", "").strip()
            assert summary, f"{route} has no summary"
            assert "\n" not in summary, f"{route}: the summary is one line"


async def test_routes_document_their_not_found_answer(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)

    for path, operations in schema["paths"].items():
        if "{" in path:
            for method, operation in operations.items():
                assert "404" in operation["responses"], f"{method.upper()} {path}"


def has_example(field: dict[str, Any]) -> bool:
    return "examples" in field or any(has_example(option) for option in field.get("anyOf", []))


@pytest.mark.parametrize(
    "model", ["UserCreate", "UserUpdate", "PostCreate", "PostReplace", "PostUpdate"]
)
async def test_request_bodies_come_with_examples(client: httpx.AsyncClient, model: str) -> None:
    schema = (await openapi(client))["components"]["schemas"][model]

    for name, field in schema["properties"].items():
        assert has_example(field), f"{model}.{name} has no example"


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "/openapi.json" in response.text


async def test_pages_need_nothing_from_the_internet(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_posts(session, await make_user(session), 2)
    page = read_page(await client.get("/"))

    assert page.stylesheets
    for url in page.stylesheets + page.images:
        assert httpx.URL(url).host in ("", "testserver"), url
        served = await client.get(url)
        assert served.status_code == 200, url
    css = await client.get(page.stylesheets[0])
    assert css.headers["content-type"].startswith("text/css")
    assert "@media" in css.text, "the stylesheet adapts to small screens"


async def test_navigation_leads_home(client: httpx.AsyncClient) -> None:
    page = read_page(await client.get("/posts"))

    assert page.link("Home").path == "/"
    assert page.link("fastblog").path == "/"
