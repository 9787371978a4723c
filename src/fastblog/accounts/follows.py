"""Following authors, and the public profile with its counts (the compiled road).

Following twice is one follow (INSERT … ON CONFLICT DO NOTHING). Both users' counts are kept
by triggers on follows, in the write's own statement, so they move only when a row really
changed; a profile reads them and never counts rows.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, literal_column, select
from sqlalchemy.dialects import postgresql

from fastblog.accounts.models import Follow, User
from fastblog.db import ConstraintViolationError, Database, Row, UTCDateTime
from fastblog.exceptions import InvalidInputError, NotAuthenticatedError, NotFoundError

ME = bindparam("user_id", type_=Follow.follower_id.type)
THEM = bindparam("followee_id", type_=User.id.type)

# The followee must exist: the SELECT finds no row otherwise.
FOLLOW = (
    postgresql.insert(Follow)
    .from_select(
        ["follower_id", "followee_id", "created_at"],
        select(ME, User.id, bindparam("now", type_=UTCDateTime())).where(User.id == THEM),
    )
    .on_conflict_do_nothing(index_elements=["follower_id", "followee_id"])
)
UNFOLLOW = delete(Follow).where(Follow.follower_id == ME, Follow.followee_id == THEM)
FOLLOWERS = select(User.follower_count.label("followers")).where(User.id == THEM)

# Whether the reader (`viewer_id`, None when anonymous: matches nothing) follows the user.
FOLLOWED_BY_VIEWER = (
    exists()
    .where(
        Follow.follower_id == bindparam("viewer_id", None, type_=Follow.follower_id.type),
        Follow.followee_id == User.id,
    )
    .label("followed_by_me")
)
PROFILE = select(
    User.id,
    User.username,
    User.image_file,
    User.follower_count.label("followers"),
    User.following_count.label("following"),
    User.post_count.label("posts"),
    FOLLOWED_BY_VIEWER,
).where(User.id == THEM)
# Authors to suggest to someone who follows nobody yet: the most published, not themselves.
SUGGESTED = (
    select(
        User.id,
        User.username,
        User.image_file,
        User.follower_count.label("followers"),
        User.post_count.label("posts"),
    )
    .where(User.post_count > literal_column("0"), User.id != bindparam("viewer_id"))
    .where(
        ~exists().where(Follow.follower_id == bindparam("viewer_id"), Follow.followee_id == User.id)
    )
    .order_by(User.post_count.desc(), User.id)
    .limit(bindparam("limit"))
)


def _not_yourself(user_id: int, followee_id: int) -> None:
    if user_id == followee_id:
        raise InvalidInputError("You cannot follow yourself.", field="user_id")


async def _followers(db: Database, followee_id: int) -> int:
    row = await db.fetch_one(FOLLOWERS, {"followee_id": followee_id})
    if row is None:
        raise NotFoundError("User not found")
    return int(row["followers"])


async def follow(db: Database, *, user_id: int, followee_id: int, now: datetime) -> dict[str, Any]:
    """`{"following": True, "followers": N}`; 404 for an unknown user, 422 for yourself."""
    _not_yourself(user_id, followee_id)
    try:
        await db.write(FOLLOW, {"user_id": user_id, "followee_id": followee_id, "now": now})
    except ConstraintViolationError:  # the follower was deleted since their token was checked
        raise NotAuthenticatedError("Your account no longer exists.") from None
    return {"following": True, "followers": await _followers(db, followee_id)}


async def unfollow(db: Database, *, user_id: int, followee_id: int) -> dict[str, Any]:
    """`{"following": False, "followers": N}`; 404 for an unknown user, 422 for yourself."""
    _not_yourself(user_id, followee_id)
    await db.write(UNFOLLOW, {"user_id": user_id, "followee_id": followee_id})
    return {"following": False, "followers": await _followers(db, followee_id)}


async def fetch_profile(db: Database, user_id: int, *, viewer_id: int | None) -> Row | None:
    """The public profile with its counts, and whether `viewer_id` follows the user."""
    return await db.fetch_one(PROFILE, {"followee_id": user_id, "viewer_id": viewer_id})


async def fetch_suggested_authors(db: Database, *, viewer_id: int, limit: int) -> list[Row]:
    return await db.fetch(SUGGESTED, {"viewer_id": viewer_id, "limit": limit})


async def is_following(db: Database, *, user_id: int, followee_id: int) -> bool:
    row = await db.fetch_one(PROFILE, {"followee_id": followee_id, "viewer_id": user_id})
    return bool(row and row["followed_by_me"])
