from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from fastblog.accounts.dependencies import TokenClaimsDep
from fastblog.comments import service
from fastblog.comments.queries import fetch_comments
from fastblog.comments.schemas import CommentCreate, CommentPage, CommentPublic, page_of
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, KeysetDep, ResourcesDep
from fastblog.params import MAX_ID, MAX_LIMIT, TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.posts.dependencies import PostId
from fastblog.write_limits import COMMENTS

E429: Responses = {
    status.HTTP_429_TOO_MANY_REQUESTS: error("Too many comments in a minute (see Retry-After)")
}
router = APIRouter(prefix="/api/posts", tags=["comments"], responses=UNAVAILABLE)

CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id.")]
CommentLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many comments to return.")]

E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E403: Responses = {
    status.HTTP_403_FORBIDDEN: error(
        "Only the comment's author, the post's author or an editor may delete it"
    )
}
E404: Responses = {
    status.HTTP_404_NOT_FOUND: error("Post not found (or not published), or no such comment on it")
}


@router.get("/{post_id}/comments", response_model=CommentPage, responses=E404)
async def list_comments(
    db: DatabaseDep, post_id: PostId, cursor: KeysetDep, limit: CommentLimit = 20
) -> dict[str, Any]:
    """A published post's comments, oldest first, a page at a time (`next_cursor`)."""
    comments, next_cursor = await fetch_comments(
        db, post_id=post_id, after=cursor, limit=limit, now=utcnow()
    )
    return page_of(comments, next_cursor)


@router.post(
    "/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentPublic,
    responses=E401 | E404 | E429 | TOO_LARGE,
)
async def create_comment(
    post_id: PostId, data: CommentCreate, token: TokenClaimsDep, resources: ResourcesDep
) -> dict[str, Any]:
    """Comment on a published post as the logged-in user (at most 10 a minute)."""
    async with resources.write_limiter.accepting(COMMENTS, token.user_id):
        return await service.create_comment(
            resources.database,
            resources.process_pool,
            post_id=post_id,
            body=data.body,
            author_id=token.user_id,
            auth_version=token.auth_version,
            now=utcnow(),
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
