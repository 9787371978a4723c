"""A user's, a tag's and a user's with a tag totals come from trigger-kept counters (migrations
0008, 0023): after any mix
of concurrent writes they must equal a count of the rows, and what readers are told must be
what they can see (no drafts, no scheduled post before its time)."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import (
    PUBLISHED,
    Post,
    PostTag,
    Tag,
    TagPostCount,
    UserPostCount,
    UserTagPostCount,
)
from tests.factories import api_create_post, login, make_user
from tests.posts.scheduled import counters_ahead

pytestmark = pytest.mark.anyio

TAGS = ["python", "async", "sql"]


async def recounted(session: AsyncSession) -> dict[str, dict[Any, int]]:
    """Published posts per user, per tag and per user and tag: counted from the rows, and as
    the counters say."""
    per_user = select(Post.user_id, func.count()).where(Post.status == PUBLISHED)
    per_tag = (
        select(PostTag.tag_id, func.count())
        .join(Post, Post.id == PostTag.post_id)
        .where(Post.status == PUBLISHED)
    )
    user_counters = select(UserPostCount.user_id, func.sum(UserPostCount.posts))
    tag_counters = select(TagPostCount.tag_id, func.sum(TagPostCount.posts))
    per_user_tag = (
        select(Post.user_id, PostTag.tag_id, func.count())
        .join(Post, Post.id == PostTag.post_id)
        .where(Post.status == PUBLISHED)
    )
    user_tag_counters = select(
        UserTagPostCount.user_id, UserTagPostCount.tag_id, func.sum(UserTagPostCount.posts)
    )
    results = {}
    for name, query, keys in [
        ("users", per_user, (Post.user_id,)),
        ("tags", per_tag, (PostTag.tag_id,)),
        ("user tags", per_user_tag, (Post.user_id, PostTag.tag_id)),
        ("user counters", user_counters, (UserPostCount.user_id,)),
        ("tag counters", tag_counters, (TagPostCount.tag_id,)),
        ("user tag counters", user_tag_counters, user_tag_counters.selected_columns[:2]),
    ]:
        rows = (await session.execute(query.group_by(*keys))).all()
        # Keyed by (user,), (tag,) or (user, tag); counter rows left at zero are left out.
        results[name] = {tuple(row[:-1]): int(row[-1]) for row in rows if row[-1]}
    return results


def write_plan(n: int) -> dict[str, Any]:
    """The n-th new post: tagged or not, a draft, scheduled or published (varied by n)."""
    fields: dict[str, Any] = {"title": f"Post {n}", "tags": TAGS[: n % 4]}
    if n % 5 == 1:
        fields["status"] = "draft"
    elif n % 5 == 2:
        fields["published_at"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    return fields


async def visible(client: httpx.AsyncClient, url: str) -> tuple[int, int]:
    """The total a reader is told, and the posts a reader can actually page through."""
    response = await client.get(httpx.URL(url).copy_merge_params({"limit": 100}))
    assert response.status_code == 200, response.text
    return response.json()["total"], len(response.json()["posts"])


async def tag_counts(client: httpx.AsyncClient) -> dict[str, int]:
    """GET /api/tags: each tag with published posts and how many (read from the counters)."""
    response = await client.get("/api/tags")
    assert response.status_code == 200, response.text
    return {tag["name"]: tag["posts"] for tag in response.json()["tags"]}


async def test_counters_match_a_recount_after_a_burst_of_concurrent_writes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    users = [await make_user(session) for _ in range(4)]
    headers = [await login(client, user) for user in users]
    ids = [user.id for user in users]
    leaving = ids[-1]

    async def create(n: int) -> dict[str, Any]:
        author = users[n % len(users)]
        response = await api_create_post(client, author, **write_plan(n))
        assert response.status_code == 201, response.text
        post: dict[str, Any] = response.json()
        return post

    created = await asyncio.gather(*(create(n) for n in range(40)))

    async def change(n: int, post: dict[str, Any]) -> None:
        owner = headers[ids.index(post["user_id"])]
        url = f"/api/posts/{post['id']}"
        if n % 4 == 0:
            response = await client.delete(url, headers=owner)
            assert response.status_code == 204, response.text
            return
        body: dict[str, Any] = [
            {},
            {"tags": TAGS[n % 3 :]},  # retagged
            {"status": "draft" if post["status"] == "published" else "published"},
            {"status": "published", "tags": ["sql"], "title": "Edited"},
        ][n % 4]
        response = await client.patch(url, json=body, headers=owner)
        assert response.status_code == 200, response.text

    # Edits, retags, deletes and new posts at once, while the last user deletes their account.
    await asyncio.gather(
        *(change(n, post) for n, post in enumerate(created) if post["user_id"] != leaving),
        *(create(n) for n in range(40, 60)),
        client.delete(f"/api/users/{leaving}", headers=headers[-1]),
    )

    counts = await recounted(session)
    assert counts["user counters"] == counts["users"]
    assert counts["tag counters"] == counts["tags"]
    assert counts["user tag counters"] == counts["user tags"]
    assert (leaving,) not in counts["user counters"]
    assert sum(counts["tags"].values()) > 0
    # The scheduled posts' day counters (migration 0030) too, for the days a total reads.
    kept, counted = await counters_ahead(session)
    assert kept == counted
    assert counted, "some posts are scheduled"

    # What readers are told matches what they can page through (drafts and scheduled left out).
    for user_id in ids[:-1]:
        total, shown = await visible(client, f"/api/users/{user_id}/posts")
        assert total == shown
    for tag in TAGS:
        total, shown = await visible(client, f"/api/posts?tag={tag}")
        assert total == shown
        assert (await tag_counts(client)).get(tag, 0) == total
        for user_id in ids[:-1]:
            total, shown = await visible(client, f"/api/users/{user_id}/posts?tag={tag}")
            assert total == shown


async def test_a_tags_and_a_users_total_follow_each_kind_of_change(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    headers = await login(client, author)
    user_url = f"/api/users/{author.id}/posts"

    async def write(method: str, url: str, **body: Any) -> dict[str, Any]:
        response = await client.request(method, url, json=body or None, headers=headers)
        assert response.status_code in {200, 201, 204}, response.text
        return response.json() if response.content else {}

    async def tagged(tag: str) -> tuple[int, int, int]:
        """A tag's total, the author's total with that tag, and GET /api/tags' count."""
        return (
            (await visible(client, f"/api/posts?tag={tag}"))[0],
            (await visible(client, f"{user_url}?tag={tag}"))[0],
            (await tag_counts(client)).get(tag, 0),
        )

    assert await visible(client, user_url) == (0, 0)
    post = await write("POST", "/api/posts", title="T", content="c", tags=["x", "y"])
    assert (await visible(client, user_url))[0] == 1
    assert await tagged("x") == (1, 1, 1)
    await write("PATCH", f"/api/posts/{post['id']}", status="draft")  # unpublished
    assert (await visible(client, user_url))[0] == 0
    assert await tagged("x") == (0, 0, 0)
    assert await tag_counts(client) == {}
    assert (await client.get("/tags/x")).status_code == 404  # no published post has it
    await write("PATCH", f"/api/posts/{post['id']}", status="published", tags=["y"])
    assert await tagged("x") == (0, 0, 0)
    assert await tagged("y") == (1, 1, 1)
    await write("PATCH", f"/api/posts/{post['id']}", tags=["x"])  # retagged
    assert await tagged("x") == (1, 1, 1)
    assert await tagged("y") == (0, 0, 0)
    await write("DELETE", f"/api/posts/{post['id']}")
    assert (await visible(client, user_url))[0] == 0
    assert await tagged("x") == (0, 0, 0)
    assert await tag_counts(client) == {}
    counts = await recounted(session)
    assert counts["user counters"] == counts["tag counters"] == {}
    assert counts["user tag counters"] == {}


async def test_tag_counts_leave_out_a_deleted_authors_posts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staying, leaving = await make_user(session), await make_user(session)
    for author in (staying, leaving, leaving):
        response = await api_create_post(client, author, title="T", tags=["shared"])
        assert response.status_code == 201, response.text
    assert await tag_counts(client) == {"shared": 3}

    deleted = await client.delete(f"/api/users/{leaving.id}", headers=await login(client, leaving))

    assert deleted.status_code == 204, deleted.text
    assert await tag_counts(client) == {"shared": 1}
    assert (await visible(client, "/api/posts?tag=shared"))[0] == 1


async def test_a_scheduled_post_joins_the_totals_at_its_time_without_any_write(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Counted from its time on, with no write at that time. The post is scheduled a moment
    ahead and the lists are read before it; on a loaded machine those reads can outlast the
    moment, and then they say nothing: the post is scheduled again, by another author under
    another tag, with twice the margin."""
    for attempt, margin in enumerate((1.5, 3.0, 6.0, 12.0)):
        author = await make_user(session)
        tag = f"later{attempt}"
        soon = datetime.now(UTC) + timedelta(seconds=margin)
        response = await api_create_post(
            client, author, title="Soon", tags=[tag], published_at=soon.isoformat()
        )
        assert response.status_code == 201, response.text
        urls = [
            f"/api/users/{author.id}/posts",
            f"/api/posts?tag={tag}",
            f"/api/users/{author.id}/posts?tag={tag}",
        ]
        before = [await visible(client, url) for url in urls]
        tags_before = await tag_counts(client)
        if datetime.now(UTC) < soon:  # every read came before the post's time
            break
    else:
        pytest.fail("the lists could not be read within 12 s of writing the post")

    assert before == [(0, 0)] * 3
    assert tag not in tags_before
    await asyncio.sleep((soon - datetime.now(UTC)).total_seconds() + 0.1)
    assert [await visible(client, url) for url in urls] == [(1, 1)] * 3
    assert (await tag_counts(client))[tag] == 1
    page = await client.get(f"/tags/{tag}")
    assert page.status_code == 200


async def test_posts_and_tags_inserted_in_bulk_are_counted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Many posts and tags in one statement each (as the seed writes them)."""
    author = await make_user(session)
    other: User = await make_user(session)
    posts = [
        Post(title=f"Bulk {n}", content="c", user_id=(author if n % 3 else other).id)
        for n in range(30)
    ]
    session.add_all(posts)
    await session.flush()
    tag = Tag(name="bulk")
    session.add(tag)
    await session.flush()
    session.add_all(PostTag(post_id=post.id, tag_id=tag.id) for post in posts[::2])
    await session.commit()

    assert (await visible(client, f"/api/users/{author.id}/posts"))[0] == 20
    assert (await visible(client, f"/api/users/{other.id}/posts"))[0] == 10
    assert (await visible(client, "/api/posts?tag=bulk"))[0] == 15
    counts = await recounted(session)
    assert counts["user counters"] == counts["users"]
    assert counts["tag counters"] == counts["tags"]
    assert counts["user tag counters"] == counts["user tags"]


async def test_the_posts_of_a_deleted_user_are_a_404_not_an_empty_list(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The page's one statement finds the user too (no look-up of the account before it):
    a user deleted is "User not found", not "no posts yet"."""
    gone = await make_user(session, username="gone")
    await session.delete(gone)
    await session.commit()

    api = await client.get(f"/api/users/{gone.id}/posts")
    tagged = await client.get(f"/api/users/{gone.id}/posts", params={"tag": "any"})

    assert (api.status_code, api.json()) == (404, {"detail": "User not found"})
    assert (tagged.status_code, tagged.json()) == (404, {"detail": "User not found"})
