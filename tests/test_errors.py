import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.apps import create_app
from tests.asgi import asgi_transport
from tests.conftest import make_settings
from tests.html import read_page

pytestmark = pytest.mark.anyio


async def test_unknown_page_is_the_html_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/page")

    assert response.status_code == 404
    page = read_page(response)
    assert "404" in page.text
    assert "Page not found" in page.text
    assert page.link("Back to the home page").path == "/"
    assert page.stylesheets, "the error page keeps the site's look"


@pytest.mark.parametrize("path", ["/apiary", "/healthy", "/docs-old"])
async def test_pages_that_only_start_like_api_paths_are_html(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.status_code == 404
    assert "Page not found" in read_page(response).text


@pytest.mark.parametrize(("method", "path"), [("POST", "/posts/1"), ("DELETE", "/")])
async def test_wrong_method_on_a_page_is_the_html_405_page(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert "Method not allowed" in read_page(response).text


async def test_unknown_api_path_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/no/such/thing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_wrong_method_under_api_is_json_405(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/posts", json={})

    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}


async def test_bad_json_under_api_is_json_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/users", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


SECRET = "the database password is hunter2"


@pytest.fixture
def failing_app(tmp_path: Path) -> FastAPI:
    """A fresh app with two extra routes that fail; the database is never touched."""
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path))

    async def explode() -> None:
        raise RuntimeError(SECRET)

    static_pages = app.router.routes[-1]  # /{slug}: create_app adds it last, to come last
    app.add_api_route("/explode", explode)
    app.add_api_route("/api/explode", explode)
    app.router.routes.remove(static_pages)
    app.router.routes.append(static_pages)
    return app


@pytest.fixture
async def failing_client(failing_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: the client gets the 500 response a real server would send.
    transport = asgi_transport(failing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def assert_logged_with_traceback(caplog: pytest.LogCaptureFixture, path: str) -> None:
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR and path in r.message]
    assert record.exc_info is not None
    assert record.exc_info[0] is RuntimeError
    assert "Traceback" in caplog.text
    assert SECRET in caplog.text


async def test_an_unhandled_error_on_a_page_is_the_html_500_page_without_traceback(
    failing_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await failing_client.get("/explode")

    assert response.status_code == 500
    page = read_page(response)
    assert "Something went wrong" in page.text
    for leak in ("Traceback", "RuntimeError", SECRET, 'File "'):
        assert leak not in response.text
    assert_logged_with_traceback(caplog, "/explode")


async def test_an_unhandled_error_under_api_is_json_500_without_traceback(
    failing_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await failing_client.get("/api/explode")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    for leak in ("Traceback", "RuntimeError", SECRET):
        assert leak not in response.text
    assert_logged_with_traceback(caplog, "/api/explode")
