"""Demo data in bulk: Core executemany inserts, not one ORM object at a time."""

import random
from datetime import timedelta

from pwdlib import PasswordHash
from sqlalchemy import func, insert, select

from fastblog.config import Settings
from fastblog.database import create_engine, utcnow
from fastblog.posts.models import Post
from fastblog.users.models import User

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


async def seed(settings: Settings, *, users: int, posts: int, rng_seed: int = 7) -> tuple[int, int]:
    """Add `users` users and `posts` posts spread among them; returns what was added."""
    rng = random.Random(rng_seed)
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:
            start = (await connection.scalar(select(func.max(User.id)))) or 0
            password_hash = PasswordHash.recommended().hash(DEMO_PASSWORD)  # once, shared
            user_rows = [
                {
                    "username": f"writer{start + n}",
                    "email": f"writer{start + n}@example.com",
                    "password_hash": password_hash,
                }
                for n in range(1, users + 1)
            ]
            if user_rows:
                await connection.execute(insert(User), user_rows)
            user_ids = list(
                (await connection.scalars(select(User.id).where(User.id > start))).all()
            ) or list((await connection.scalars(select(User.id))).all())
            if posts and not user_ids:
                raise SystemExit("No users to write the posts: seed some users too.")
            now = utcnow()
            for first in range(0, posts, BATCH):
                rows = [
                    {
                        "title": sentence(rng, rng.randint(3, 8)),
                        "content": "\n\n".join(
                            sentence(rng, rng.randint(20, 60)) + "." for _ in range(2)
                        ),
                        "user_id": rng.choice(user_ids),
                        "date_posted": now - timedelta(minutes=posts - n),
                    }
                    for n in range(first, min(first + BATCH, posts))
                ]
                await connection.execute(insert(Post), rows)
    finally:
        await engine.dispose()
    return users, posts
