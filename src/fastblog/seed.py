"""Demo data in bulk: Core executemany inserts in one transaction, not one ORM object at a time."""

import asyncio
import random
from datetime import datetime, timedelta
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import func, insert, select

from fastblog.accounts.models import User
from fastblog.config import Settings
from fastblog.db import Database, utcnow
from fastblog.posts.markdown import render, slug_of
from fastblog.posts.models import PUBLISHED, Post

WORDS = (
    "async await event loop request response database session query index page post writer "
    "reader server worker thread process latency throughput cache pool connection python "
    "fastapi sqlalchemy template schema migration blog story morning coffee garden"
)
VOCABULARY = WORDS.split()
BATCH = 5_000
# Every seeded writer can log in with this password (demo and benchmark data only).
DEMO_PASSWORD = "fastblog-demo"  # noqa: S105 (documented demo data)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)).capitalize()


def post_row(rng: random.Random, *, user_id: int, at: datetime) -> dict[str, Any]:
    title = sentence(rng, rng.randint(3, 8))
    content = "\n\n".join(sentence(rng, rng.randint(20, 60)) + "." for _ in range(2))
    rendered = render(content)  # plain sentences: well under a millisecond each
    return {
        "title": title,
        "slug": slug_of(title),
        "content": content,
        "content_html": rendered.html,
        "excerpt": rendered.excerpt,
        "status": PUBLISHED,
        "published_at": at,
        "updated_at": at,
        "user_id": user_id,
        "date_posted": at,
    }


async def seed(settings: Settings, *, users: int, posts: int, rng_seed: int = 7) -> tuple[int, int]:
    """Add `users` users and `posts` posts spread among them; returns what was added."""
    rng = random.Random(rng_seed)
    # One argon2 hash (~100 ms of CPU), shared by every seeded writer: in a thread.
    password_hash = await asyncio.to_thread(PasswordHash.recommended().hash, DEMO_PASSWORD)
    db = Database.open(settings)
    try:
        async with db.transaction() as session:
            start = (await session.scalar(select(func.max(User.id)))) or 0
            user_rows = [
                {
                    "username": f"writer{start + n}",
                    "email": f"writer{start + n}@example.com",
                    "password_hash": password_hash,
                }
                for n in range(1, users + 1)
            ]
            if user_rows:
                await session.execute(insert(User), user_rows)
            user_ids = list(
                (await session.scalars(select(User.id).where(User.id > start))).all()
            ) or list((await session.scalars(select(User.id))).all())
            if posts and not user_ids:
                raise SystemExit("No users to write the posts: seed some users too.")
            now = utcnow()
            for first in range(0, posts, BATCH):
                rows = [
                    post_row(
                        rng, user_id=rng.choice(user_ids), at=now - timedelta(minutes=posts - n)
                    )
                    for n in range(first, min(first + BATCH, posts))
                ]
                await session.execute(insert(Post), rows)
            await session.commit()
    finally:
        await db.close()
    return users, posts
