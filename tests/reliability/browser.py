"""A browser's view of the HTML forms: the CSRF token a page carries, and logging in."""

import re

import httpx

from fastblog.accounts.models import User
from tests.factories import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str) -> str:
    """The token of the form on `path`, as a browser would submit it."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_FIELD.search(page.text)
    assert found, f"no form with a CSRF token on {path}"
    return found.group(1)


async def browser_login(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> str:
    """Log in through /login; returns the CSRF token of the logged-in session."""
    token = await csrf_token(client, "/login")
    form = {"email": user.email, "password": password, "csrf_token": token}
    response = await client.post("/login", data=form)
    assert response.status_code == 303, response.text
    return await csrf_token(client, "/account")
