"""Helpers for the account tests: bearer tokens, browser sessions, forms and images."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from html.parser import HTMLParser
from io import BytesIO

import httpx
from fastapi import FastAPI
from PIL import Image

from fastblog.accounts.models import User
from fastblog.accounts.tokens import create_access_token
from tests.asgi import asgi_transport, resources_of
from tests.factories import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def bearer(app: FastAPI, user: User) -> dict[str, str]:
    """Headers with a token signed by the app's own key, without the cost of a password check.

    The token endpoint itself is covered in tests/auth/test_tokens.py.
    """
    secret = resources_of(app).secret_key
    token = create_access_token(user.id, secret=secret, lifetime=timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def browser(app: FastAPI, address: str = "127.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """Another browser: a client with a cookie jar of its own, calling from `address`."""
    transport = asgi_transport(app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The CSRF token of the client's session, read from a page with a form."""
    page = await client.get("/forgot-password")
    match = CSRF_FIELD.search(page.text)
    assert match, "no CSRF field on /forgot-password"
    return match.group(1)


async def submit(
    client: httpx.AsyncClient,
    url: str,
    data: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> httpx.Response:
    """Post a form the way a browser does: with the session's CSRF token."""
    fields = {**(data or {}), "csrf_token": await csrf_token(client)}
    return await client.post(url, data=fields, files=files)


async def browser_login(
    client: httpx.AsyncClient, user: User, password: str = PASSWORD
) -> httpx.Response:
    response = await submit(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 303, response.text
    return response


def is_login_redirect(response: httpx.Response, next_path: str) -> bool:
    return response.status_code == 303 and response.headers["location"] == (
        f"/login?next={next_path}"
    )


class _FormReader(HTMLParser):
    """Collects input values, the ticked checkboxes and the error paragraph of each field."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str | None] = {}
        self.checked: set[str] = set()
        self.errors: dict[str, str] = {}
        self._error_of: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag in ("input", "textarea") and name:
            self.values[name] = attributes.get("value")
            if attributes.get("type") == "checkbox" and "checked" in attributes:
                self.checked.add(name)
        element_id = attributes.get("id") or ""
        if tag == "p" and element_id.endswith("-error"):
            self._error_of = element_id.removesuffix("-error")
            self.errors[self._error_of] = ""

    def handle_data(self, data: str) -> None:
        if self._error_of is not None:
            self.errors[self._error_of] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._error_of = None


def read_form(html: str) -> _FormReader:
    """What a person sees in the form: each field's value and the error beside it."""
    reader = _FormReader()
    reader.feed(html)
    return reader


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (300, 200), color: str = "green", **save: object
) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt, **save)
    return buffer.getvalue()
