"""`fastblog seed --demo`: a small blog worth looking at, written through the app's own
services, so the Markdown is rendered, the counters and the search index are right and every
row is one the app itself could have written.

The content is `fastblog/seed/demo/` (fastblog.seed.demo_content). The demo is added once:
when any of its accounts already exists, nothing is written (DemoAlreadySeededError).
"""

import asyncio
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import func, or_, select

from fastblog.accounts import follows
from fastblog.accounts import service as accounts
from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.accounts.schemas import UserCreate, UserUpdate
from fastblog.admin import page_service
from fastblog.comments.models import PENDING
from fastblog.comments.policy import CommentPolicy
from fastblog.comments.service import approve_comment, create_comment
from fastblog.config import Settings
from fastblog.db import FOR_UPDATE, Database, utcnow
from fastblog.posts import likes
from fastblog.posts.schemas import PostWrite
from fastblog.posts.service import create_post
from fastblog.seed.demo_content import DRAFT, SCHEDULED, DemoBlog, DemoPost, Person, load
from fastblog.site.pages import fetch_page
from fastblog.site.schemas import SiteSettingsUpdate
from fastblog.site.store import SiteSettingsStore

# Every demo account logs in with this password (the README says so).
DEMO_PASSWORD = "fastblog-demo"  # noqa: S105 (documented demo data)
ABOUT_SLUG = "about"
# The site's default comment mode: a reader's first comment waits for approval. The demo's
# owner approves each as it comes, except the one left waiting for a newcomer to find.
COMMENT_POLICY = CommentPolicy.APPROVE_FIRST
# A post "written today" at a later hour than now is still in the past: at most this recent.
LATEST = timedelta(minutes=30)


class DemoAlreadySeededError(Exception):
    """The demo's accounts are already in the database: nothing was added."""


@dataclass(frozen=True)
class DemoSeeded:
    people: int
    published: int
    drafts: int
    scheduled: int
    comments: int
    waiting: int
    likes: int
    follows: int


async def seed_demo(settings: Settings, *, now: datetime | None = None) -> DemoSeeded:
    """Add the demo blog, dated back from `now`; DemoAlreadySeededError when it is there."""
    blog = load()
    now = now or utcnow()
    # One argon2 hash (~100 ms of CPU) shared by the demo accounts: in a thread.
    password_hash = await asyncio.to_thread(PasswordHash.recommended().hash, DEMO_PASSWORD)
    db = Database.open(settings)
    try:
        with _render_pool() as pool:
            await refuse_if_seeded(db, blog)
            user_ids = await add_people(db, blog, password_hash)
            await add_profiles(db, blog, user_ids)
            post_ids = await add_posts(db, pool, blog, user_ids, now)
            comments, waiting = await add_comments(db, pool, blog, user_ids, post_ids, now)
            liked = await add_likes(db, blog, user_ids, post_ids, now)
            followed = await add_follows(db, blog, user_ids, now)
            await add_about_page(db, pool, blog)
            await fill_site_settings(db, settings, blog)
    finally:
        await db.close()
    statuses = [post.status for post in blog.posts]
    return DemoSeeded(
        people=len(user_ids),
        published=statuses.count("published"),
        drafts=statuses.count(DRAFT),
        scheduled=statuses.count(SCHEDULED),
        comments=comments,
        waiting=waiting,
        likes=liked,
        follows=followed,
    )


@contextmanager
def _render_pool() -> Iterator[Executor]:
    # The services send long posts to the app's process pool to keep its event loop free
    # for other requests; this command serves none, so one thread does (no processes to spawn).
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        yield pool
    finally:
        pool.shutdown()


async def refuse_if_seeded(db: Database, blog: DemoBlog) -> None:
    emails = [person.email for person in blog.people]
    usernames = [person.username.lower() for person in blog.people]
    taken = select(User.username).where(
        or_(User.email.in_(emails), func.lower(User.username).in_(usernames))
    )
    async with db.session() as session:
        found = (await session.scalars(taken.order_by(User.id).limit(1))).first()
    if found is not None:
        raise DemoAlreadySeededError(
            f"The demo blog is already in this database (the account {found!r} exists): "
            "nothing was added. Use a new database to start over."
        )


def role_of(person: Person) -> Role:
    """The role asked for. The first account of an empty site becomes its owner whatever it
    asks (create_user): the demo's owner asks to be an admin, which it stays on a site that
    has an owner already (one owner per site)."""
    return Role.ADMIN if person.role == Role.OWNER else Role(person.role)


async def add_people(db: Database, blog: DemoBlog, password_hash: str) -> dict[str, int]:
    """The demo's accounts, the owner first; their ids by key."""
    ids = {}
    for person in blog.people:
        data = UserCreate(username=person.username, email=person.email, password=DEMO_PASSWORD)
        async with db.transaction() as session:
            user = await accounts.create_user(
                session, data=data, password_hash=password_hash, role=role_of(person)
            )
        ids[person.key] = user.id
    return ids


async def add_profiles(db: Database, blog: DemoBlog, user_ids: dict[str, int]) -> None:
    """The writers' bios and websites, as each would set them on their account page."""
    for person in blog.people:
        if not (person.bio or person.website):
            continue
        change = UserUpdate(bio=person.bio, website=person.website or "")
        async with db.transaction() as session:
            user = await accounts.get_user(session, user_ids[person.key], lock=FOR_UPDATE)
            assert user is not None, "created just before"
            await accounts.update_user(session, user=user, data=change)


def published_at(post: DemoPost, now: datetime) -> datetime:
    """When the post is (or will be) published: its date, never later than now unless it is
    scheduled."""
    written = post.written(now)
    return written if post.status == SCHEDULED else min(written, now - LATEST)


async def add_posts(
    db: Database, pool: Executor, blog: DemoBlog, user_ids: dict[str, int], now: datetime
) -> dict[str, int]:
    """Every post, oldest first, as its author would have written it on its day (a
    scheduled one today); their ids by key."""
    ids = {}
    for post in blog.posts:
        when = published_at(post, now)
        data = PostWrite(
            title=post.title,
            content=post.content,
            tags=post.tags,
            status=DRAFT if post.status == DRAFT else "published",
            published_at=None if post.status == DRAFT else when,
        )
        created = await create_post(
            db,
            pool,
            data=data,
            author_id=user_ids[post.author],
            auth_version=0,
            now=now if post.status == SCHEDULED else when,
        )
        assert created is not None, "its author was created just before"
        ids[post.key] = created["id"]
    return ids


async def add_comments(
    db: Database,
    pool: Executor,
    blog: DemoBlog,
    user_ids: dict[str, int],
    post_ids: dict[str, int],
    now: datetime,
) -> tuple[int, int]:
    """The comments, each some hours after the one before it on its post (the first after
    the post): threads that read as replies. A reader's first comment waits (COMMENT_POLICY)
    and the owner approves it, unless the content says it stays waiting. How many were
    approved, and how many wait."""
    by_post = {post.key: post for post in blog.posts}
    owner_id = next(user_ids[person.key] for person in blog.people if person.role == Role.OWNER)
    last: dict[str, datetime] = {}
    approved = waiting = 0
    for comment in blog.comments:
        after = last.get(comment.post) or published_at(by_post[comment.post], now)
        when = min(after + timedelta(hours=comment.hours_after), now - LATEST / 2)
        last[comment.post] = when
        created = await create_comment(
            db,
            pool,
            post_id=post_ids[comment.post],
            body=comment.body,
            author_id=user_ids[comment.by],
            auth_version=0,
            now=when,
            policy=COMMENT_POLICY,
        )
        if created["status"] == PENDING and comment.waiting:
            waiting += 1
            continue
        if created["status"] == PENDING:
            await approve_comment(
                db, comment_id=created["id"], requester_id=owner_id, auth_version=0
            )
        approved += 1
    return approved, waiting


async def add_likes(
    db: Database, blog: DemoBlog, user_ids: dict[str, int], post_ids: dict[str, int], now: datetime
) -> int:
    by_post = {post.key: post for post in blog.posts}
    added = 0
    for key, people in blog.likes.items():
        start = published_at(by_post[key], now)
        for hours, person in enumerate(people, start=1):
            when = min(start + timedelta(hours=3 * hours), now - LATEST / 3)
            await likes.like(db, post_id=post_ids[key], user_id=user_ids[person], now=when)
            added += 1
    return added


async def add_follows(db: Database, blog: DemoBlog, user_ids: dict[str, int], now: datetime) -> int:
    added = 0
    for follower, followees in blog.follows.items():
        for days, followee in enumerate(followees, start=1):
            await follows.follow(
                db,
                user_id=user_ids[follower],
                followee_id=user_ids[followee],
                now=now - timedelta(days=20 * days),
            )
            added += 1
    return added


async def add_about_page(db: Database, pool: Executor, blog: DemoBlog) -> None:
    """The About page (the navigation links it: fill_site_settings), unless the site has a
    page at that address already."""
    if await fetch_page(db, ABOUT_SLUG) is not None:
        return
    await page_service.create_page(
        db, pool, title="About", slug=ABOUT_SLUG, content=blog.about, taken=()
    )


async def fill_site_settings(db: Database, settings: Settings, blog: DemoBlog) -> None:
    """The demo's title, description, navigation and footer; the rest (sign-up, comments,
    time zone) stays as the site has it."""
    await SiteSettingsStore(db, settings).change(SiteSettingsUpdate.model_validate(blog.site))
