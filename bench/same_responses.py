"""Whether a change leaves the read routes' responses byte for byte as they were: ~180
responses (the API's lists, posts and tags with a token, without one and with a bad one, its
401s, 404s and 422s; pages anonymous and logged in; feeds; the OpenAPI document) written to a
JSON file, then two such files compared.

    .venv/bin/python -m bench.same_responses capture before.json   # this tree
    PYTHONPATH=/tmp/main/src .venv/bin/python -m bench.same_responses capture after.json
    .venv/bin/python -m bench.same_responses compare before.json after.json

(`git archive main src | tar -x -C /tmp/main` gives another revision's `src/`.) Both captures
read copies of one database, seeded once through the CLI and given comments and likes
(`.cache/bench/responses.sqlite`): its dates never move, so neither do the pages. CSRF tokens
are masked; a logged-in page's validators (no-store) are left out.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.db import migrate_and_seed, published_post_ids
from bench.live import REPO_ROOT
from bench.request_cpu import CACHED_SEED, _with_state, cached_seed, comment_on, started
from fastblog.config import Settings
from fastblog.seed import DEMO_PASSWORD

REFERENCE = REPO_ROOT / ".cache" / "bench" / "responses.sqlite"
CSRF = re.compile(r'(csrf_token" value=")[^"]+|(<meta name="csrf-token" content=")[^"]+')
BASE_URL = "http://127.0.0.1:8000"
WRITER = {"username": "writer2@example.com", "password": DEMO_PASSWORD}


async def prepare() -> None:
    """The reference database: the CPU benchmark's seed, fifty comments on one post, and a
    like and a comment with markup on six others."""
    cached_seed()
    partial = REFERENCE.with_suffix(".partial")
    shutil.copyfile(CACHED_SEED, partial)
    url = f"sqlite+aiosqlite:///{partial}"
    migrate_and_seed(url, users=0, posts=0)
    with tempfile.TemporaryDirectory() as folder:
        async with started(Settings(database_url=url, media_dir=Path(folder))) as caller:
            ids = [str(i) for i in await asyncio.to_thread(published_post_ids, url, 50)]
            transport = httpx.ASGITransport(app=_with_state(caller))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                token = (await client.post("/api/users/token", data=WRITER)).json()
                auth = {"Authorization": f"Bearer {token['access_token']}"}
                await comment_on(client, ids[3], auth["Authorization"])
                for post_id in ids[:6]:
                    await client.post(f"/api/posts/{post_id}/like", headers=auth)
                    body = {"body": "a <b>bold</b> & 'odd' \"one\""}
                    await client.post(f"/api/posts/{post_id}/comments", json=body, headers=auth)
    partial.rename(REFERENCE)


def api_paths(ids: list[str], cursor: str, tags: list[str]) -> list[str]:
    return [
        *("/api/posts", "/api/posts?limit=20", "/api/posts?limit=20&content=true"),
        *("/api/posts?limit=5&skip=3", f"/api/posts?limit=20&cursor={cursor}"),
        *(f"/api/posts?tag={tags[0]}", f"/api/posts?tag={tags[-1]}&limit=3", "/api/posts?tag=%20"),
        *("/api/posts?limit=0", "/api/posts?limit=abc", "/api/posts?limit=1000"),
        *("/api/posts?cursor=bad", "/api/posts?skip=-1", "/api/posts?content=maybe"),
        *("/api/posts?limit=20&limit=3", "/api/posts?tag=" + "x" * 300),
        *(f"/api/posts/{i}" for i in ids[:8]),
        *("/api/posts/999999", "/api/posts/abc", "/api/posts/0", "/api/posts/"),
        *("/api/tags", "/api/tags?limit=5", "/api/tags?limit=0", "/api/tags?limit=x"),
        *("/api/tags?limit=1000", "/api/users/2/posts", "/api/users/2/posts?limit=20&content=true"),
        *(f"/api/users/3/posts?tag={tags[0]}", "/api/users/99999/posts"),
        *(f"/api/posts/{ids[3]}/comments", f"/api/posts/{ids[3]}/comments?limit=100"),
        *("/openapi.json", "/health"),
    ]


def page_paths(posts: list[dict[str, Any]], cursor: str, tags: list[str]) -> list[str]:
    return [
        *("/", "/posts", f"/?tag={tags[0]}", f"/tags/{tags[0]}", f"/tags/{tags[-1]}"),
        *("/tags/nope", f"/?cursor={cursor}", "/posts?page=2"),
        *(f"/posts/{post['id']}/{post['slug']}" for post in posts),
        *(f"/posts/{post['id']}" for post in posts[:2]),
        *("/users/2/posts", "/users/3/posts", "/feed.xml", f"/tags/{tags[0]}/feed.xml"),
        *("/search?q=the", "/nope", "/sitemap.xml"),
    ]


async def keep(
    responses: dict[str, Any], client: httpx.AsyncClient, key: str, url: str, **headers: str
) -> None:
    response = await client.get(url, headers=headers)
    kept = {k: v for k, v in response.headers.items() if k not in ("set-cookie", "date")}
    if "no-store" in kept.get("cache-control", ""):  # its bytes hold the session's token
        kept.pop("content-length", None)
        kept.pop("etag", None)
    body = CSRF.sub(lambda match: (match.group(1) or match.group(2)) + "X", response.text)
    responses[key] = {"status": response.status_code, "headers": kept, "body": body}


async def capture() -> dict[str, Any]:
    responses: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "responses.sqlite"
        shutil.copyfile(REFERENCE, copy)
        url = f"sqlite+aiosqlite:///{copy}"
        ids = [str(i) for i in await asyncio.to_thread(published_post_ids, url, 2_000)]
        settings = Settings(database_url=url, media_dir=Path(folder) / "media")
        async with started(settings) as caller:
            transport = httpx.ASGITransport(app=_with_state(caller))
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                token = (await client.post("/api/users/token", data=WRITER)).json()
                auth = f"Bearer {token['access_token']}"
                cursor = (await client.get("/api/posts?limit=20")).json()["next_cursor"]
                tags = [tag["name"] for tag in (await client.get("/api/tags")).json()["tags"]]
                posts = [(await client.get(f"/api/posts/{i}")).json() for i in ids[:8]]
                for path in api_paths(ids, cursor, tags):
                    await keep(responses, client, f"anonymous {path}", path)
                    await keep(responses, client, f"token {path}", path, authorization=auth)
                    bad = "Bearer nonsense"
                    await keep(responses, client, f"bad token {path}", path, authorization=bad)
                own = await client.get(
                    "/api/users/2/posts?limit=3", headers={"authorization": auth}
                )
                for post in own.json()["posts"]:
                    path = f"/api/posts/{post['id']}"
                    await keep(responses, client, f"own {path}", path, authorization=auth)
                for path in page_paths(posts, cursor, tags):
                    await keep(responses, client, f"page {path}", path, accept="text/html")
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as browser:
                form = (await browser.get("/forgot-password")).text
                match = re.search(r'name="csrf_token" value="([^"]+)"', form)
                assert match, "no CSRF token on /forgot-password"
                login = {"email": WRITER["username"], "password": DEMO_PASSWORD}
                answer = await browser.post("/login", data={**login, "csrf_token": match[1]})
                assert answer.status_code == 303, answer.status_code
                own_pages = [f"/posts/{post['id']}/{post['slug']}" for post in own.json()["posts"]]
                for path in [*page_paths(posts, cursor, tags), *own_pages]:
                    await keep(responses, browser, f"logged in {path}", path, accept="text/html")
    return responses


def compare(before: Path, after: Path) -> int:
    first, second = json.loads(before.read_text()), json.loads(after.read_text())
    differ = sorted(
        key for key in first.keys() | second.keys() if first.get(key) != second.get(key)
    )
    print(f"{len(first)} and {len(second)} responses, {len(differ)} differ")
    for key in differ[:10]:
        print(f"  {key}")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("capture").add_argument("out", type=Path)
    both = commands.add_parser("compare")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "compare":
        sys.exit(compare(args.before, args.after))
    os.environ.setdefault("WRITE_RATE_LIMITS", "false")  # the reference's fifty comments
    if not REFERENCE.exists():
        asyncio.run(prepare())
    responses = asyncio.run(capture())
    args.out.write_text(json.dumps(responses, indent=1, sort_keys=True))
    print(f"{len(responses)} responses written to {args.out}")


if __name__ == "__main__":
    main()
