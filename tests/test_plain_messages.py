"""Every 422 speaks plain words: no regular expression, no pydantic wording.

The walk below takes every operation of /openapi.json and sends it, for each parameter and
each body field in turn, the kinds of bad input a person sends (the wrong type, too long, too
short, a character a pattern refuses, nothing at all), as a logged-in user, and reads every
message of every 422."""

import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.messages import FIELD_LABELS, FORM_LABELS, STALE_LINK, field_label
from tests.accounts import browser_login, submit
from tests.factories import login, make_user
from tests.html import read_page

pytestmark = pytest.mark.anyio

# What library wording looks like: pydantic's own phrases, and the marks of a regex.
LIBRARY_WORDING = re.compile(
    r"should be|should have|Input should|String should|Field required|Value error|"
    r"valid integer|unable to parse|pattern|\^|\$'|\\x|\[\^|Assertion failed|"
    r"at least \d+ items?|after validation|JSON decode|dict_type|model_type"
)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    for choice in schema.get("anyOf", []):
        if choice.get("type") != "null":
            return _resolve(spec, choice)
    return schema


def bad_values(schema: dict[str, Any]) -> list[Any]:
    """Values a person might send that this schema refuses."""
    kind = schema.get("type")
    values: list[Any] = [None, {"a": 1}]
    if kind == "string":
        values += [12, "x" * (schema.get("maxLength", 100_000) + 1)]
        if schema.get("minLength"):
            values.append("")
        if schema.get("pattern") or schema.get("format") in {"date-time", "email"}:
            values += ["\x00", "not valid at all !", "   "]
        if "enum" in schema:
            values.append("nonsense")
    elif kind == "integer":
        values += ["two", 1.5, -(2**70), 2**70, 0, -1]
    elif kind == "boolean":
        values += ["perhaps"]
    elif kind == "array":
        values += ["text", [{"a": 1}] * 3, ["x" * 500] * 50]
    return values


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if method in {"get", "post", "put", "patch", "delete"} and path.startswith("/api")
    ]


def _path(path: str, params: list[dict[str, Any]], bad: tuple[str, Any] | None) -> str:
    for param in params:
        if param["in"] == "path":
            value = bad[1] if bad and bad[0] == param["name"] else 1
            path = path.replace("{" + param["name"] + "}", str(value))
    return path


async def test_no_422_speaks_in_library_wording_or_regular_expressions(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    headers = await login(client, user)
    spec = (await client.get("/openapi.json")).json()
    leaks: set[tuple[str, str, str]] = set()
    checked = 0

    async def send(method: str, url: str, **kwargs: Any) -> None:
        nonlocal checked
        response = await client.request(method, url, headers=headers, **kwargs)
        if response.status_code != 422:
            return
        for error in response.json()["detail"]:
            checked += 1
            message = error["msg"]
            if LIBRARY_WORDING.search(message) or not message[:1].isupper():
                leaks.add((f"{method} {url.split('?')[0][:60]}", str(error["loc"]), message))

    for method, path, operation in operations(spec):
        params = operation.get("parameters", [])
        for param in params:
            schema = _resolve(spec, param.get("schema", {}))
            for value in bad_values(schema):
                if value is None or isinstance(value, dict | list):
                    continue
                if param["in"] == "path":
                    await send(method, _path(path, params, (param["name"], value)))
                elif param["in"] == "query":
                    url = _path(path, params, None)
                    await send(method, url, params={param["name"]: str(value)})
        content = operation.get("requestBody", {}).get("content", {})
        url = _path(path, params, None)
        form = content.get("application/x-www-form-urlencoded")
        if form is not None:  # the token endpoint: OAuth2's form
            form_schema = _resolve(spec, form["schema"])
            fields = {name: "a" for name in form_schema.get("properties", {})}
            await send(method, url, data={})
            for name, field in form_schema.get("properties", {}).items():
                for value in bad_values(_resolve(spec, field)):
                    if isinstance(value, str | int):
                        await send(method, url, data={**fields, name: str(value)})
        if "application/json" not in content:
            continue
        body_schema = _resolve(spec, content["application/json"]["schema"])
        valid = {name: "a" for name in body_schema.get("properties", {})}
        await send(method, url, content=b"{not json")
        await send(method, url, json=[1, 2])
        await send(method, url, json={})
        for name, field in body_schema.get("properties", {}).items():
            for value in bad_values(_resolve(spec, field)):
                await send(method, url, json={**valid, name: value})

    assert checked > 200  # the walk reached the API's validation
    assert not leaks, "\n".join(sorted(f"{op} {loc}: {msg}" for op, loc, msg in leaks))


@pytest.mark.parametrize("username", ["\u0430da", "zoë", "ada lovelace", "ada\u202e"])
async def test_a_username_outside_ascii_is_refused_by_a_message_that_says_so(
    client: httpx.AsyncClient, username: str
) -> None:
    body = {"username": username, "email": "ada@example.com", "password": "a long passphrase"}

    response = await client.post("/api/users", json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "username"]
    assert "unaccented letters a-z and A-Z" in error["msg"]


async def test_the_token_forms_grant_type_is_explained_not_quoted(
    client: httpx.AsyncClient,
) -> None:
    form = {"grant_type": "client_credentials", "username": "ada", "password": "x" * 8}

    response = await client.post("/api/users/token", data=form)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "grant_type"]
    assert error["msg"] == "Must be “password”, or left out."


LONG = "x" * 201
# (how the page is asked for, what the error page says): each field named as its form labels
# it, or as the address holds it.
PAGE_ERRORS = [
    ("GET /posts/abc", "The post number in the address: must be a whole number."),
    ("GET /users/0/posts", "The account number in the address: must be at least 1."),
    ("GET /?page=two", "The page number: must be a whole number."),
    ("GET /?cursor=garbage", f"The link to the next page: {STALE_LINK}"),
    ("GET /?before=garbage", f"The link to the page before: {STALE_LINK}"),
    (f"GET /search?q={'x' * 1001}", "Search posts: must be at most 1,000 characters long."),
    ("POST /login", "Email or username: must be at most 200 characters long."),
    ("POST /forgot-password", "Email: must be at most 200 characters long."),
    ("POST /account/delete", "Your password, to confirm: must be at most 200 characters long."),
    ("POST /account/password", "New password: must be at most 200 characters long."),
]


@pytest.mark.parametrize(("request_line", "message"), PAGE_ERRORS)
async def test_a_pages_422_names_the_field_as_its_form_labels_it(
    client: httpx.AsyncClient, session: AsyncSession, request_line: str, message: str
) -> None:
    method, url = request_line.split(" ")
    if method == "GET":
        response = await client.get(url)
    else:
        await browser_login(client, await make_user(session))
        fields = {"email": LONG, "password": LONG, "current_password": "x", "new_password": LONG}
        response = await submit(client, url, fields)

    assert response.status_code == 422
    page = read_page(response)
    assert message in page.text
    assert "Invalid value" not in page.text
    assert not LIBRARY_WORDING.search(page.text)


class Forms(HTMLParser):
    """Each form's address and, for each labelled field, its name and the label's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, str], dict[str, str]]] = []  # action, ids, labels
        self._label: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((attributes.get("action", ""), {}, {}))
        elif tag == "label" and self.forms:
            self._label, self._text = attributes.get("for", ""), []
        elif tag in {"input", "textarea", "select"} and self.forms and "id" in attributes:
            self.forms[-1][1][attributes["id"]] = attributes.get("name", "")

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label is not None:
            self.forms[-1][2][self._label] = " ".join("".join(self._text).split())
            self._label = None


async def test_the_labels_of_422_pages_are_the_forms_own(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    pages = ["/login", "/forgot-password", "/register"]
    html = [(await client.get(path)).text for path in pages]
    await browser_login(client, await make_user(session, role="admin"))
    html += [(await client.get(path)).text for path in ("/account", "/admin/invitations")]
    checked = 0
    for text in html:
        parser = Forms()
        parser.feed(text)
        for action, names, labels in parser.forms:
            for field_id, label in labels.items():
                name = names.get(field_id, "")
                if name in FIELD_LABELS or name in FORM_LABELS.get(action, {}):
                    assert field_label(name, action) == label, (action, name)
                    checked += 1
    assert checked >= 10
