from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Response, status

from fastblog.accounts.dependencies import (
    TokenClaimsDep,
    get_token_claims,
    oauth2_scheme,
    unauthorized,
)
from fastblog.comments import service
from fastblog.comments.policy import comment_policy
from fastblog.comments.queries import ANYONE, Viewer, fetch_comments, fetch_pending, fetch_viewer
from fastblog.comments.schemas import (
    CommentCreate,
    CommentOnPost,
    CommentPage,
    CommentPublic,
    PendingPage,
    page_of,
)
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, KeysetDep, ResourcesDep
from fastblog.exceptions import ForbiddenError
from fastblog.params import MAX_ID, MAX_LIMIT, TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.posts.dependencies import PostId
from fastblog.routing import api_router
from fastblog.write_limits import COMMENTS

E429: Responses = {
    status.HTTP_429_TOO_MANY_REQUESTS: error("Too many comments in a minute (see Retry-After)")
}
router = api_router(prefix="/api/posts", tags=["comments"], responses=UNAVAILABLE)
# The moderation queue and its actions, across posts.
moderation_router = api_router(prefix="/api/comments", tags=["comments"], responses=UNAVAILABLE)

CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id.")]
CommentLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many comments to return.")]

E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E401_IF_SENT: Responses = {status.HTTP_401_UNAUTHORIZED: error("A token was sent, but not valid")}
E403: Responses = {
    status.HTTP_403_FORBIDDEN: error(
        "Only the comment's author, the post's author or an editor may delete it"
    )
}
E403_CLOSED: Responses = {
    status.HTTP_403_FORBIDDEN: error("Comments are closed on this site or on this post")
}
E403_EDITORS: Responses = {
    status.HTTP_403_FORBIDDEN: error("Only an editor, an admin or the owner moderates comments")
}
E404: Responses = {
    status.HTTP_404_NOT_FOUND: error("Post not found (or not published), or no such comment on it")
}
E404_COMMENT: Responses = {status.HTTP_404_NOT_FOUND: error("No such comment")}


async def get_viewer(
    resources: ResourcesDep, db: DatabaseDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Viewer:
    """Who reads comments: anyone without a token; with one (which must be valid), the
    user, who also sees their own waiting comments, and all of them as an editor."""
    if not token:
        return ANYONE
    claims = await get_token_claims(resources, token)
    viewer = await fetch_viewer(db, user_id=claims.user_id, auth_version=claims.auth_version)
    if viewer is None:
        raise unauthorized("Invalid or expired token")
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


@router.get("/{post_id}/comments", response_model=CommentPage, responses=E401_IF_SENT | E404)
async def list_comments(
    db: DatabaseDep, viewer: ViewerDep, post_id: PostId, cursor: KeysetDep, limit: CommentLimit = 20
) -> dict[str, Any]:
    """A published post's comments, oldest first, a page at a time (`next_cursor`). With a
    token: your own comments waiting for approval too (an editor: all waiting ones)."""
    comments, next_cursor = await fetch_comments(
        db, post_id=post_id, after=cursor, limit=limit, now=utcnow(), viewer=viewer
    )
    return page_of(comments, next_cursor)


@router.post(
    "/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentPublic,
    responses=E401 | E403_CLOSED | E404 | E429 | TOO_LARGE,
)
async def create_comment(
    post_id: PostId, data: CommentCreate, token: TokenClaimsDep, resources: ResourcesDep
) -> dict[str, Any]:
    """Comment on a published post as the logged-in user (at most 10 a minute). As the site
    is set, it may wait for approval (`"status": "pending"`)."""
    policy = await comment_policy(resources)
    async with resources.write_limiter.accepting(COMMENTS, token.user_id):
        return await service.create_comment(
            resources.database,
            resources.process_pool,
            post_id=post_id,
            body=data.body,
            author_id=token.user_id,
            auth_version=token.auth_version,
            now=utcnow(),
            policy=policy,
        )


@router.delete(
    "/{post_id}/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=E401 | E403 | E404,
)
async def delete_comment(
    post_id: PostId, comment_id: CommentId, token: TokenClaimsDep, db: DatabaseDep
) -> Response:
    """Delete a comment: yours, one on your post, or (an editor) any."""
    await service.delete_comment(
        db,
        post_id=post_id,
        comment_id=comment_id,
        requester_id=token.user_id,
        auth_version=token.auth_version,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@moderation_router.get("", response_model=PendingPage, responses=E401 | E403_EDITORS)
async def list_pending(
    db: DatabaseDep,
    token: TokenClaimsDep,
    cursor: KeysetDep,
    which: Annotated[
        Literal["pending"],
        # max_length: a long value is refused before it is compared (and the schema says so).
        Query(
            alias="status",
            max_length=20,
            description="Which comments: those waiting for approval.",
        ),
    ] = "pending",
    limit: CommentLimit = 20,
) -> dict[str, Any]:
    """Comments waiting for approval on any post, oldest first, each with its `post_id`
    (editors, admins and the owner)."""
    viewer = await fetch_viewer(db, user_id=token.user_id, auth_version=token.auth_version)
    if viewer is None:
        raise unauthorized("Invalid or expired token")
    if not viewer.sees_all:
        raise ForbiddenError("Only an editor, an admin or the owner can see waiting comments.")
    comments, next_cursor = await fetch_pending(db, after=cursor, limit=limit)
    return page_of(comments, next_cursor)


@moderation_router.post(
    "/{comment_id}/approve",
    response_model=CommentOnPost,
    responses=E401 | E403_EDITORS | E404_COMMENT,
)
async def approve_comment(
    comment_id: CommentId, token: TokenClaimsDep, db: DatabaseDep
) -> dict[str, Any]:
    """Approve a waiting comment: everyone sees it, and it counts on its post."""
    return await service.approve_comment(
        db, comment_id=comment_id, requester_id=token.user_id, auth_version=token.auth_version
    )


@moderation_router.delete(
    "/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=E401 | E403_EDITORS | E404_COMMENT,
)
async def reject_comment(comment_id: CommentId, token: TokenClaimsDep, db: DatabaseDep) -> Response:
    """Delete any comment as a moderator: rejecting a waiting one, or removing one shown."""
    await service.reject_comment(
        db, comment_id=comment_id, requester_id=token.user_id, auth_version=token.auth_version
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
