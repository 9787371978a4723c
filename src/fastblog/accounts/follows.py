"""Following authors, and the profile's follow counts (the compiled road).

Following twice is one follow (INSERT … ON CONFLICT DO NOTHING). Both users' counts are kept
by triggers on follows, in the write's own statement, so they move only when a row really
changed; a profile reads them and never counts rows.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.dialects import postgresql

from fastblog.accounts.models import Follow, User
from fastblog.db import ConstraintViolationError, Database, UTCDateTime
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
# Whether `viewer_id` follows `followee_id`: the follows primary key.
FOLLOWING = select(
    exists()
    .where(
        Follow.follower_id == bindparam("viewer_id", type_=Follow.follower_id.type),
        Follow.followee_id == THEM,
    )
    .label("following")
)
# The profile's own columns (its post count is the posts package's: fastblog.posts.feed).
PROFILE_COLUMNS = (
    User.id,
    User.username,
    User.image_file,
    User.role,
    User.follower_count.label("followers"),
    User.following_count.label("following"),
    FOLLOWED_BY_VIEWER,
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


async def is_following(db: Database, *, user_id: int, followee_id: int) -> bool:
    row = await db.fetch_one(FOLLOWING, {"followee_id": followee_id, "viewer_id": user_id})
    return bool(row and row["following"])
