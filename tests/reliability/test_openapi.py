"""The OpenAPI schema is honest: it documents every status code each route can return.

Schemathesis checks the codes it sees; these are the ones it cannot provoke on its own: a
413 for every body, a 503 for every route that needs the database, a 401 wherever a token
is required, each with the body the client will get.
"""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from fastblog.params import MAX_ID
from tests.apps import create_app
from tests.conftest import make_settings

OURS = r"^/(api/|health$|ready$)"  # the JSON API and the probes; the lab is tested on its own
WITHOUT_DATABASE = {("GET", "/health"), ("POST", "/api/users/forgot-password")}


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("media")))
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return [
        (method.upper(), path, operation)
        for path, methods in paths.items()
        for method, operation in methods.items()
        if re.match(OURS, path)
    ]


OPERATIONS = operations()
IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]
# The operations that can answer an error (all but /health), and every integer parameter.
FALLIBLE = [
    (method, path, operation)
    for method, path, operation in OPERATIONS
    if any(int(status) >= 400 for status in operation["responses"])
]
INTEGERS = [
    (f"{method} {path} {parameter['name']}", parameter)
    for method, path, operation in OPERATIONS
    for parameter in operation.get("parameters", [])
    if parameter["schema"].get("type") == "integer"
]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=IDS)
def test_every_status_is_documented(method: str, path: str, operation: dict[str, Any]) -> None:
    documented = set(operation["responses"])
    assert any(status.startswith("2") for status in documented)
    if "requestBody" in operation:
        assert {"413", "422"} <= documented
    if operation.get("security"):
        assert "401" in documented
    if (method, path) not in WITHOUT_DATABASE:
        assert "503" in documented
    if operation.get("parameters"):
        assert "422" in documented


@pytest.mark.parametrize(
    ("method", "path", "operation"), FALLIBLE, ids=[f"{m} {p}" for m, p, _ in FALLIBLE]
)
def test_every_error_has_a_body_schema(method: str, path: str, operation: dict[str, Any]) -> None:
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            assert response["content"]["application/json"]["schema"], status
    if "503" in operation["responses"] and path.startswith("/api"):
        assert "Retry-After" in operation["responses"]["503"]["headers"]


@pytest.mark.parametrize(("name", "parameter"), INTEGERS, ids=[name for name, _ in INTEGERS])
def test_every_number_is_bounded(name: str, parameter: dict[str, Any]) -> None:
    schema = parameter["schema"]
    assert "minimum" in schema
    assert "maximum" in schema
    assert schema["maximum"] <= MAX_ID


@pytest.mark.anyio
async def test_allow_lists_exactly_the_documented_methods(client: httpx.AsyncClient) -> None:
    """A 405 names every method the URL accepts (each method is a route of its own here):
    those of its path, and those of a templated path it also matches (/api/users/token is
    also /api/users/{user_id}, whose GET answers 422: not an id)."""
    documented: dict[str, set[str]] = {}
    for method, path, _ in OPERATIONS:
        documented.setdefault(path, set()).add(method)
    for path, methods in documented.items():
        url = path.replace("{post_id}", "1").replace("{user_id}", "1")
        also = set().union(
            *(
                others
                for template, others in documented.items()
                if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), url)
            )
        )
        response = await client.options(url)
        assert response.status_code == 405, path
        allowed = set(response.headers["allow"].split(", ")) - {"HEAD"}
        assert methods <= allowed <= also, path


def test_reads_that_take_a_token_if_sent_document_the_same_scheme() -> None:
    """The optional token's dependency is a security scheme of its own
    (fastblog.accounts.dependencies.OptionalBearer): clients must see the one scheme the
    routes that require a token name."""
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("media")))
    document = app.openapi()
    assert list(document["components"]["securitySchemes"]) == ["OAuth2PasswordBearer"]
    routes = {(method, path): operation for method, path, operation in OPERATIONS}
    required = routes["POST", "/api/posts"]["security"]
    assert required == [{"OAuth2PasswordBearer": []}]
    for read in ("/api/posts", "/api/posts/{post_id}", "/api/users/{user_id}/posts"):
        assert routes["GET", read]["security"] == required, read
