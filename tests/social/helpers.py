"""Counts as the rows say: what a stored counter must always equal."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

STORED_VS_ROWS = {
    "likes": (
        "SELECT id, like_count, (SELECT count(*) FROM post_likes WHERE post_id = posts.id)"
        " FROM posts"
    ),
    "followers": (
        "SELECT id, follower_count,"
        " (SELECT count(*) FROM follows WHERE followee_id = users.id) FROM users"
    ),
    "following": (
        "SELECT id, following_count,"
        " (SELECT count(*) FROM follows WHERE follower_id = users.id) FROM users"
    ),
    "comments": (
        "SELECT id, comments, (SELECT count(*) FROM comments WHERE post_id = posts.id) FROM posts"
    ),
    "posts": (
        "SELECT id, (SELECT coalesce(sum(posts), 0) FROM user_post_counts"
        " WHERE user_id = users.id), (SELECT count(*) FROM posts"
        " WHERE user_id = users.id AND status = 'published') FROM users"
    ),
}


async def drifted_counts(connection: AsyncConnection) -> dict[str, list[Any]]:
    """Every (id, stored, recounted) whose stored count differs from a recount of the rows."""
    drifted: dict[str, list[Any]] = {}
    for name, sql in STORED_VS_ROWS.items():
        rows = (await connection.execute(text(sql))).all()
        wrong = [tuple(row) for row in rows if row[1] != row[2]]
        if wrong:
            drifted[name] = wrong
    return drifted
