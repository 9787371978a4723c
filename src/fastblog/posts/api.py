from typing import Annotated, Any

from fastapi import Query, Request, Response, status

from fastblog.accounts.api import E404 as USER_NOT_FOUND
from fastblog.accounts.dependencies import (
    OptionalTokenUserIdDep,
    OptionalTokenViewerDep,
    TokenClaimsDep,
    TokenUserIdDep,
    TokenViewerDep,
    UserId,
    Viewer,
    unauthorized,
)
from fastblog.db import utcnow
from fastblog.dependencies import (
    DatabaseDep,
    KeysetDep,
    ResourcesDep,
    WriteLimiterDep,
    WriteSessionDep,
    resources_of,
)
from fastblog.pagination import Keyset
from fastblog.params import TOO_LARGE, UNAVAILABLE, Limit, Responses, Skip, error, invalid
from fastblog.posts import service
from fastblog.posts.dependencies import (
    PostId,
    PostToDeleteDep,
    PostToEditDep,
    PostVisibilityDep,
    TagFilter,
    tag_list_cache_of,
    tag_or_none,
    visible_post,
)
from fastblog.posts.models import PUBLISHED
from fastblog.posts.permissions import check_edit
from fastblog.posts.queries import fetch_page
from fastblog.posts.responses import json_response, post_json
from fastblog.posts.schemas import (
    PostCreate,
    PostPage,
    PostPublic,
    PostReplace,
    PostUpdate,
    TagList,
    page_of,
)
from fastblog.routing import api_router
from fastblog.write_limits import POSTS

router = api_router(prefix="/api/posts", tags=["posts"], responses=UNAVAILABLE)
# A field's format, or a feature image that is not a picture uploaded here.
FEATURE_IMAGE = invalid("Invalid input, or a feature image not uploaded here")
# A user's posts live with the posts: accounts know nothing of posts.
by_user_router = api_router(prefix="/api/users", tags=["users"], responses=UNAVAILABLE)
tags_router = api_router(prefix="/api/tags", tags=["posts"], responses=UNAVAILABLE)

E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E401_IF_SENT: Responses = {status.HTTP_401_UNAUTHORIZED: error("A token was sent, but not valid")}
E403: Responses = {
    status.HTTP_403_FORBIDDEN: error(
        "Your role does not allow it: the post is not yours (an editor may), or you may not "
        "publish (a contributor) or write (a reader)"
    )
}
E404: Responses = {
    status.HTTP_404_NOT_FOUND: error("Post not found (or a draft or scheduled post not yours)")
}
E429: Responses = {
    status.HTTP_429_TOO_MANY_REQUESTS: error("Too many writes in a minute (see Retry-After)")
}
OWNER_ONLY: Responses = E401 | E403 | E404
# A list's posts carry their excerpt; their Markdown source and HTML only when asked.
WithContent = Annotated[
    bool,
    Query(description="Also give each post's `content` (Markdown) and `content_html`."),
]


async def _page(
    db: DatabaseDep,
    *,
    skip: int,
    limit: int,
    tag: str | None,
    cursor: Keyset | None,
    content: bool,
    user_id: int | None = None,
    viewer_id: int | None = None,
) -> Response:
    """The page as PostPage's JSON, written straight from the rows (fastblog.posts.responses
    says why)."""
    wanted = tag_or_none(tag) if tag is not None else None
    no_such_tag = tag is not None and wanted is None  # a text no tag can be
    if no_such_tag and user_id is None:
        empty = page_of([], total=0, skip=skip, limit=limit, older=None)
        return json_response(empty)
    now = utcnow()
    listing = await fetch_page(
        db,
        now=now,
        skip=skip,
        limit=limit,
        after=cursor,
        user_id=user_id,
        # No such tag matches nothing, like a tag nobody uses: a user's page is still read,
        # for its 404 when the user does not exist.
        tag="" if no_such_tag else wanted,
        full=content,
        viewer_id=viewer_id,
    )
    posts = [post_json(post, now) for post in listing.posts]
    page = page_of(posts, total=listing.total, skip=skip, limit=limit, older=listing.older)
    return json_response(page)


@router.get("", response_model=PostPage, responses=E401_IF_SENT)
async def list_posts(
    request: Request,
    viewer_id: OptionalTokenUserIdDep,
    cursor: KeysetDep,
    skip: Skip = 0,
    limit: Limit = 10,
    tag: TagFilter = None,
    content: WithContent = False,
) -> Response:
    """List published posts, newest first, one page at a time: follow `next_cursor`
    (`?cursor=`) to the end; `skip` goes a little way from where a page starts. With a token:
    which you like. Each post without its content unless `?content=true`."""
    return await _page(
        resources_of(request).database,  # not DatabaseDep: a node fewer (resources_of says why)
        skip=skip,
        limit=limit,
        tag=tag,
        cursor=cursor,
        content=content,
        viewer_id=viewer_id,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PostPublic,
    responses=E401 | E403 | E429 | TOO_LARGE | FEATURE_IMAGE,
)
async def create_post(
    data: PostCreate,
    token: TokenClaimsDep,
    resources: ResourcesDep,
    limiter: WriteLimiterDep,
    visibility: PostVisibilityDep,
) -> dict[str, Any]:
    """Write a post as the logged-in user: published now by default, or a draft, or
    scheduled (`published_at` in the future), or submitted for review (`"status": "review"`:
    all a contributor may do; a reader may not write). At most 10 a minute."""
    async with limiter.accepting(POSTS, token.user_id):
        post = await service.create_post(
            resources.database,
            resources.process_pool,
            data=data,
            author_id=token.user_id,
            auth_version=token.auth_version,  # checked by the INSERT itself: no extra read
            now=utcnow(),
            external_images=resources.settings.external_images,
            send_newsletter=(
                resources.site.current.newsletter_default
                if data.send_newsletter is None
                else data.send_newsletter
            ),
        )
        if post is None:  # the token's account was deleted, or the token revoked
            raise unauthorized("Invalid or expired token")
    if post["status"] == PUBLISHED:
        visibility.wake()  # announced (and mailed) in the background, not in this request
    return post


@router.get("/{post_id}", response_model=PostPublic, responses=E401_IF_SENT | E404)
async def get_post(
    request: Request,
    viewer: OptionalTokenViewerDep,  # first: a bad token is a 401 before a bad id's 422
    post_id: PostId,
) -> Response:
    """Get one post with its author (a draft or scheduled post: only with its author's token)."""
    # The post is read here, not by a dependency: FastAPI solves each dependency node on every
    # request (docs/request-path.md), and this route is the API's busiest.
    db = resources_of(request).database  # not DatabaseDep: a node fewer (resources_of says why)
    if viewer is None:
        post = await visible_post(db, post_id, None)
    else:
        post = await visible_post(db, post_id, viewer.id, viewer.role)
    return json_response(post_json(post, utcnow()))  # fastblog.posts.responses: why


async def _edit(
    resources: ResourcesDep,
    viewer: Viewer,
    post: dict[str, Any],
    changes: dict[str, Any],
    visibility: PostVisibilityDep,
) -> dict[str, Any]:
    # Sending a publication date publishes, as in fastblog.posts.service.edit_post.
    status = changes.get("status") or (PUBLISHED if changes.get("published_at") else None)
    check_edit(post, user_id=viewer.id, role=viewer.role, status=status)
    edited = await service.edit_post(
        resources.database,
        resources.process_pool,
        post=post,
        changes=changes,
        now=utcnow(),
        external_images=resources.settings.external_images,
        visibility=visibility,
    )
    if edited["status"] == PUBLISHED:
        visibility.wake()
    return edited


@router.put(
    "/{post_id}", response_model=PostPublic, responses=OWNER_ONLY | TOO_LARGE | FEATURE_IMAGE
)
async def replace_post(
    viewer: TokenViewerDep,
    post: PostToEditDep,
    data: PostReplace,
    resources: ResourcesDep,
    visibility: PostVisibilityDep,
) -> dict[str, Any]:
    """Replace your post (an editor: anyone's): title and content are required; tags,
    status and publication date take their defaults when left out."""
    return await _edit(resources, viewer, post, data.model_dump(), visibility)


@router.patch(
    "/{post_id}", response_model=PostPublic, responses=OWNER_ONLY | TOO_LARGE | FEATURE_IMAGE
)
async def update_post(
    viewer: TokenViewerDep,
    post: PostToEditDep,
    data: PostUpdate,
    resources: ResourcesDep,
    visibility: PostVisibilityDep,
) -> dict[str, Any]:
    """Change some of your post's fields (an editor: anyone's; `"status": "published"`
    publishes a post in review); only the fields sent are changed."""
    return await _edit(resources, viewer, post, data.model_dump(exclude_unset=True), visibility)


@router.delete("/{post_id}", status_code=status.HTTP_204_NO_CONTENT, responses=OWNER_ONLY)
async def delete_post(
    post: PostToDeleteDep,
    user_id: TokenUserIdDep,
    session: WriteSessionDep,
    visibility: PostVisibilityDep,
) -> Response:
    """Delete your post (an editor: anyone's); its newsletter mails not sent yet are not."""
    await service.delete_post(session, post=post, by_user_id=user_id, visibility=visibility)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@by_user_router.get(
    "/{user_id}/posts", response_model=PostPage, responses=E401_IF_SENT | USER_NOT_FOUND
)
async def get_user_posts(
    request: Request,
    viewer_id: OptionalTokenUserIdDep,  # first: a bad token is a 401 before any 404
    user_id: UserId,
    cursor: KeysetDep,
    skip: Skip = 0,
    limit: Limit = 10,
    tag: TagFilter = None,
    content: WithContent = False,
) -> Response:
    """A user's published posts, newest first (paged like `GET /api/posts`)."""
    # No UserDep: the page's one statement finds the user too (an empty page asks whether
    # they exist: fastblog.posts.queries.USER_TOTALS, a 404 if not). Loading the account
    # through an ORM session first cost half of this route's CPU at a million posts.
    return await _page(
        resources_of(request).database,  # not DatabaseDep: a node fewer (resources_of says why)
        skip=skip,
        limit=limit,
        tag=tag,
        cursor=cursor,
        content=content,
        user_id=user_id,
        viewer_id=viewer_id,
    )


TagLimit = Annotated[int, Query(ge=1, le=1000, description="How many tags to return.")]


@tags_router.get("", response_model=TagList)
async def list_tags(request: Request, limit: TagLimit = 100) -> Response:
    """Tags of published posts, most used first."""
    # Kept by the process while it is current (fastblog.posts.tag_list_cache says how).
    body = await tag_list_cache_of(request).json(limit)
    return Response(body, media_type="application/json")  # as json_response answers
