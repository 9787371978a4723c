"""ActivityPub's routes: discovery (WebFinger, NodeInfo), the actor and its collections,
each post as an Article, and the inboxes. Thin: the documents are built by
fastblog.federation.documents, the SQL is in fastblog.federation.queries.

The actor and the posts answer at their pages' addresses: `negotiation.py` sends a request
for `/users/{id}/posts` or `/posts/{id}` that asks for ActivityPub to `/ap/...` here.
"""

import json
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from fastblog.federation import documents, queries
from fastblog.federation.actors import blocked, key_lookup
from fastblog.federation.announce import article_of
from fastblog.federation.fetch import MAX_BYTES
from fastblog.federation.handlers import id_of
from fastblog.federation.inbox import enqueue, is_activity
from fastblog.federation.keys import actor_key
from fastblog.federation.runtime import Federation
from fastblog.federation.signatures import SignatureError, SignedRequest, verify
from fastblog.routing import api_router

router = api_router(include_in_schema=False)

AP_JSON = "application/activity+json; charset=utf-8"
JRD = "application/jrd+json; charset=utf-8"


def _federation(request: Request) -> Federation:
    federation: Federation = request.state.federation
    return federation


FederationDep = Annotated[Federation, Depends(_federation)]


class ActivityResponse(JSONResponse):
    media_type = AP_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


@router.get("/.well-known/webfinger")
async def webfinger(
    federation: FederationDep, resource: Annotated[str, Query(max_length=500)]
) -> Response:
    """Find an author by `acct:username@host` (or their page's address)."""
    base = federation.base
    username: str | None = None
    user_id = documents.our_actor(base, resource.removeprefix("acct:"))
    if user_id is None and resource.startswith("acct:"):
        name, _, host = resource.removeprefix("acct:").rpartition("@")
        if host.lower() == documents.host_of(base).lower():
            username = name
    found = await queries.local_author(federation.database, user_id=user_id, username=username)
    if found is None:
        return _error(404, f"No author here is {resource[:200]}")
    return JSONResponse(documents.webfinger(base, found.username, found.id), media_type=JRD)


@router.get("/.well-known/nodeinfo")
async def nodeinfo_links(federation: FederationDep) -> Response:
    """Where this server's NodeInfo is."""
    return JSONResponse(
        {
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                    "href": f"{federation.base}/nodeinfo/2.1",
                }
            ]
        }
    )


@router.get("/nodeinfo/2.1")
async def nodeinfo(request: Request, federation: FederationDep) -> Response:
    """What this server is: software, protocols, users and posts."""
    users, posts = await queries.usage(federation.database)
    site = request.state.resources.site.current
    document = documents.nodeinfo(
        users=users,
        posts=posts,
        open_registrations=site.registration == "open",
        name=site.title,
    )
    profile = 'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
    return JSONResponse(document, media_type=profile)


@router.get("/ap/users/{user_id}")
async def person(user_id: int, federation: FederationDep) -> Response:
    """The author as an ActivityPub Person."""
    user = await queries.local_author(federation.database, user_id=user_id)
    if user is None:
        gone_key = await queries.deleted_author_key(federation.database, user_id)
        if gone_key is None:
            return _error(404, "No such author")
        return ActivityResponse(documents.gone_person(federation.base, user_id, gone_key))
    key = await actor_key(federation.database, federation.pool, user_id)
    return ActivityResponse(documents.person(federation.base, user, key.public_pem))


@router.get("/ap/users/{user_id}/outbox")
async def outbox(
    user_id: int,
    federation: FederationDep,
    page: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """The author's posts, newest first, as Create activities (paged)."""
    db, base = federation.database, federation.base
    if await queries.local_author(db, user_id=user_id) is None:
        return _error(404, "No such author")
    uri = documents.ap_path(base, user_id, "outbox")
    if page is None:
        total = await queries.count_visible_posts(db, user_id)
        return ActivityResponse(documents.collection(uri, total, first=f"{uri}?page=1"))
    rows = await queries.visible_posts(
        db, user_id, offset=(page - 1) * documents.PAGE_SIZE, limit=documents.PAGE_SIZE + 1
    )
    items = [
        documents.create(base, documents.article(base, row)) for row in rows[: documents.PAGE_SIZE]
    ]
    return ActivityResponse(
        documents.collection_page(uri, page, items, has_next=len(rows) > documents.PAGE_SIZE)
    )


@router.get("/ap/users/{user_id}/followers")
async def followers(user_id: int, federation: FederationDep) -> Response:
    """How many follow the author from the fediverse (the list itself stays private)."""
    db = federation.database
    if await queries.local_author(db, user_id=user_id) is None:
        return _error(404, "No such author")
    uri = documents.ap_path(federation.base, user_id, "followers")
    return ActivityResponse(documents.collection(uri, await queries.count_followers(db, user_id)))


@router.get("/ap/users/{user_id}/following")
async def following(user_id: int, federation: FederationDep) -> Response:
    """Whom the author follows on the fediverse: nobody (authors do not follow from here)."""
    if await queries.local_author(federation.database, user_id=user_id) is None:
        return _error(404, "No such author")
    uri = documents.ap_path(federation.base, user_id, "following")
    return ActivityResponse(documents.collection(uri, 0))


@router.get("/ap/posts/{post_id}")
async def post_article(post_id: int, federation: FederationDep) -> Response:
    """The post as an Article; 410 with a Tombstone once deleted."""
    db, base = federation.database, federation.base
    if await queries.is_visible(db, post_id):
        async with db.session() as session:
            document = await article_of(session, base, post_id)
        if document is not None:
            return ActivityResponse({"@context": documents.CONTEXT, **document})
    deleted_at = await queries.tombstone(db, post_id)
    if deleted_at is not None:
        return ActivityResponse(
            documents.tombstone(base, post_id, deleted_at=deleted_at), status_code=410
        )
    return _error(404, "No such post")


@router.post("/ap/users/{user_id}/inbox")
async def actor_inbox(user_id: int, request: Request, federation: FederationDep) -> Response:
    """An author's inbox: signed activities, queued (202) and handled in the background."""
    if await queries.local_author(federation.database, user_id=user_id) is None:
        return _error(404, "No such author")
    return await _receive(request, federation, user_id)


@router.post("/ap/inbox")
async def shared_inbox(request: Request, federation: FederationDep) -> Response:
    """The shared inbox: signed activities for any of this site's authors."""
    return await _receive(request, federation, None)


async def _read_body(request: Request) -> bytes | None:
    """The body, or None past MAX_BYTES (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(request: Request, federation: FederationDep, user_id: int | None) -> Response:
    body = await _read_body(request)
    if body is None:
        return _error(413, f"An activity is at most {MAX_BYTES // 1024} KB")
    try:
        document = json.loads(body)
    except ValueError:
        return _error(400, "The body is not JSON")
    if not is_activity(document):
        return _error(400, "The body is not an activity: it needs a type and an actor")
    actor = id_of(document["actor"]) or ""
    db = federation.database
    if await blocked(db, actor):
        return _error(403, "This server does not take activities from your domain")
    headers = {name.lower(): value for name, value in request.headers.items()}
    url = f"{request.url.scheme}://{headers.get('host', request.url.netloc)}{request.url.path}"
    if request.url.query:
        url += f"?{request.url.query}"
    signed = SignedRequest(request.method, url, headers, body)
    try:
        signer = await verify(signed, partial(key_lookup, db, federation.remote))
    except SignatureError as exc:
        return _error(401, str(exc))
    if signer != actor:
        return _error(401, "The activity's actor is not the one who signed it")
    await enqueue(db, user_id=user_id, actor=actor, body=body.decode())
    federation.inbox.wake()
    return Response(status_code=202)
