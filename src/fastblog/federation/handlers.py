"""What each inbound activity does, inside the worker's transaction (fastblog.federation.inbox).

`prepare` does the remote fetches first (the actor if not cached, a reply given by its id
only), outside any transaction; `handle` then writes. Anything not understood is ignored.
"""

import base64
import hashlib
import html
import logging
import re
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import nh3
from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.accounts.roles import Role
from fastblog.comments.models import APPROVED, PENDING, Comment
from fastblog.comments.policy import CommentPolicy, must_wait
from fastblog.comments.service import render_body
from fastblog.db import Database, utcnow
from fastblog.federation import documents
from fastblog.federation.actors import ActorError, actor_values, fetch_actor, store_actor
from fastblog.federation.delivery import queue_activity
from fastblog.federation.fetch import FetchError, Remote
from fastblog.federation.models import Reaction, RemoteActor, RemoteFollower, RemoteNote
from fastblog.markup import count_links, render_lite
from fastblog.posts.models import PUBLISHED, Post
from fastblog.site.store import SiteSettingsStore

logger = logging.getLogger(__name__)

ACTOR_TYPES = {"Person", "Service", "Application", "Group", "Organization"}
REACTIONS = {"Like": "like", "Announce": "announce"}
MAX_COMMENT_CHARS = 10_000
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)


def id_of(value: Any) -> str | None:
    """An object's id, whether given as a string or as an object with an `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def note_text(content: str) -> str:
    """A remote reply's HTML as the plain text a comment is written in: line breaks kept,
    every tag dropped, entities decoded. The comment's own renderer (Markdown-lite, then nh3)
    makes its HTML, so a remote reply is sanitized exactly as a local comment is."""
    text = _BREAKS.sub("\n\n", content)
    text = nh3.clean(text, tags=set(), strip_comments=True)
    return html.unescape(text).strip()[:MAX_COMMENT_CHARS]


def unusable_password_hash() -> str:
    """A well-formed argon2 hash of nothing anyone knows: a stand-in account cannot log in."""

    def b64(size: int) -> str:
        return base64.b64encode(secrets.token_bytes(size)).decode().rstrip("=")

    return f"$argon2id$v=19$m=65536,t=3,p=4${b64(16)}${b64(32)}"


@dataclass(slots=True)
class Prepared:
    actor: RemoteActor | None = None
    note: dict[str, Any] | None = None


class Handlers:
    def __init__(
        self,
        *,
        base: str,
        database: Database,
        remote: Remote,
        pool: Executor,
        site: SiteSettingsStore,
        wake_delivery: Callable[[], None],
    ) -> None:
        self.base = base
        self.database = database
        self.remote = remote
        self.pool = pool
        self.site = site
        self.wake_delivery = wake_delivery
        self._queued = False

    def after_commit(self) -> None:
        if self._queued:
            self._queued = False
            self.wake_delivery()

    async def prepare(self, document: dict[str, Any]) -> Prepared:
        actor_uri = id_of(document.get("actor")) or ""
        prepared = Prepared()
        async with self.database.session() as session:
            prepared.actor = await session.scalar(
                select(RemoteActor).where(RemoteActor.uri == actor_uri)
            )
        if prepared.actor is None:
            prepared.actor = await fetch_actor(self.database, self.remote, actor_uri)
        obj = document.get("object")
        if document.get("type") in {"Create", "Update"} and isinstance(obj, str):
            with_note = await self.remote.fetch_json(obj)
            prepared.note = with_note if isinstance(with_note, dict) else None
        elif isinstance(obj, dict):
            prepared.note = obj
        return prepared

    async def handle(
        self,
        session: AsyncSession,
        document: dict[str, Any],
        prepared: Prepared,
        *,
        user_id: int | None,
    ) -> None:
        kind = document.get("type")
        assert prepared.actor is not None
        actor = await session.get(RemoteActor, prepared.actor.id)
        if actor is None:
            return
        if kind == "Follow":
            await self._follow(session, document, actor)
        elif kind == "Undo":
            await self._undo(session, document, actor)
        elif kind == "Create":
            await self._create(session, prepared.note, actor)
        elif kind == "Update":
            await self._update(session, prepared.note, actor)
        elif kind == "Delete":
            await self._delete(session, document, actor)
        elif kind in REACTIONS:
            await self._react(session, document, actor, REACTIONS[kind])
        else:
            logger.info("Ignored a %s from %s", str(kind)[:40], actor.uri)

    # -- follows ------------------------------------------------------------------------

    async def _follow(
        self, session: AsyncSession, document: dict[str, Any], actor: RemoteActor
    ) -> None:
        user_id = documents.our_actor(self.base, id_of(document.get("object")))
        follow_id = id_of(document)
        if user_id is None or follow_id is None or not await _is_author(session, user_id):
            return
        follower = await session.get(RemoteFollower, (user_id, actor.id))
        if follower is None:
            session.add(
                RemoteFollower(user_id=user_id, actor_id=actor.id, follow_id=follow_id[:500])
            )
        else:
            follower.follow_id = follow_id[:500]
        ours = documents.actor_id(self.base, user_id)
        digest = hashlib.sha256(follow_id.encode()).hexdigest()[:32]
        accept = documents.wrap(
            "Accept",
            f"{ours}#accepts/{digest}",
            ours,
            {"id": follow_id, "type": "Follow", "actor": actor.uri, "object": ours},
            to=[actor.uri],
        )
        await queue_activity(session, activity=accept, author_id=user_id, inboxes=[actor.inbox])
        self._queued = True

    async def _undo(
        self, session: AsyncSession, document: dict[str, Any], actor: RemoteActor
    ) -> None:
        obj = document.get("object")
        undone = id_of(obj)
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind in (None, "Follow"):
            target = documents.our_actor(
                self.base, id_of(obj.get("object")) if isinstance(obj, dict) else None
            )
            condition = RemoteFollower.follow_id == undone
            if target is not None:
                condition = condition | (RemoteFollower.user_id == target)
            await session.execute(
                delete(RemoteFollower).where(RemoteFollower.actor_id == actor.id, condition)
            )
        if kind in (None, "Like", "Announce"):
            await session.execute(
                delete(Reaction).where(Reaction.actor == actor.uri, Reaction.activity_id == undone)
            )

    # -- likes and boosts ---------------------------------------------------------------

    async def _react(
        self, session: AsyncSession, document: dict[str, Any], actor: RemoteActor, kind: str
    ) -> None:
        post_id = documents.our_post(self.base, id_of(document.get("object")))
        activity_id = id_of(document)
        if post_id is None or activity_id is None or await session.get(Post, post_id) is None:
            return
        if await session.get(Reaction, (post_id, actor.uri, kind)) is None:
            session.add(
                Reaction(post_id=post_id, actor=actor.uri, kind=kind, activity_id=activity_id[:500])
            )

    # -- replies ------------------------------------------------------------------------

    async def _create(
        self, session: AsyncSession, note: dict[str, Any] | None, actor: RemoteActor
    ) -> None:
        if note is None or note.get("type") != "Note":
            return
        note_id = id_of(note)
        post_id = documents.our_post(self.base, note.get("inReplyTo"))
        if note_id is None or post_id is None or id_of(note.get("attributedTo")) != actor.uri:
            return
        if await session.get(RemoteNote, note_id) is not None:
            return  # delivered twice
        policy = CommentPolicy(self.site.current.comments)
        post = await session.get(Post, post_id)
        visible = post is not None and post.status == PUBLISHED and post.published_at is not None
        if (
            not visible
            or post is None
            or post.published_at is None
            or post.published_at > utcnow()
            or not post.comments_enabled
            or policy is CommentPolicy.CLOSED
        ):
            return
        text = note_text(str(note.get("content") or ""))
        if not text:
            return
        user_id = await self._stand_in(session, actor)
        body_html = await render_body(self.pool, text)
        has_approved = await session.scalar(
            select(exists().where(Comment.user_id == user_id, Comment.status == APPROVED))
        )
        waits = must_wait(
            policy, role=Role.READER, has_approved=bool(has_approved), links=count_links(body_html)
        )
        comment = Comment(
            post_id=post_id,
            user_id=user_id,
            body=text,
            body_html=body_html,
            status=PENDING if waits else APPROVED,
        )
        session.add(comment)
        await session.flush()
        session.add(RemoteNote(note_id=note_id[:500], comment_id=comment.id, actor=actor.uri))

    async def _stand_in(self, session: AsyncSession, actor: RemoteActor) -> int:
        """The local account a remote author's comments are written under (made once)."""
        if actor.user_id is not None:
            return actor.user_id
        handle = f"{actor.username}@{actor.host}"[:50]
        taken = await session.scalar(
            select(User.id).where(func.lower(User.username) == handle.lower())
        )
        if taken is not None:
            handle = f"{handle[:40]}~{actor.id}"
        digest = hashlib.sha256(actor.uri.encode()).hexdigest()[:24]
        user = User(
            username=handle,
            email=f"ap-{digest}@fediverse.example.com",
            password_hash=unusable_password_hash(),
            role=Role.READER.value,
            bio=actor.name or None,
            bio_html=render_lite(actor.name) if actor.name else None,
            website=(actor.url or actor.uri)[:200],
        )
        session.add(user)
        await session.flush()
        actor.user_id = user.id
        return user.id

    async def _remote_comment(
        self, session: AsyncSession, note_id: str | None, actor: RemoteActor
    ) -> Comment | None:
        if note_id is None:
            return None
        note = await session.get(RemoteNote, note_id)
        if note is None or note.actor != actor.uri:
            return None
        return await session.get(Comment, note.comment_id)

    async def _update(
        self, session: AsyncSession, obj: dict[str, Any] | None, actor: RemoteActor
    ) -> None:
        if obj is None:
            return
        if obj.get("type") in ACTOR_TYPES and id_of(obj) == actor.uri:
            try:
                values = actor_values(obj)
            except ActorError as exc:
                logger.info("Update of %s ignored: %s", actor.uri, exc)
                return
            await store_actor(session, values)
            return
        comment = await self._remote_comment(session, id_of(obj), actor)
        text = note_text(str(obj.get("content") or ""))
        if comment is None or not text:
            return
        comment.body = text
        comment.body_html = await render_body(self.pool, text)

    async def _delete(
        self, session: AsyncSession, document: dict[str, Any], actor: RemoteActor
    ) -> None:
        deleted = id_of(document.get("object"))
        if deleted == actor.uri:  # the account itself is gone
            await session.execute(delete(RemoteFollower).where(RemoteFollower.actor_id == actor.id))
            return
        comment = await self._remote_comment(session, deleted, actor)
        if comment is not None:
            await session.delete(comment)


async def _is_author(session: AsyncSession, user_id: int) -> bool:
    """A local account (not a remote author's stand-in)."""
    if await session.get(User, user_id) is None:
        return False
    stand_in = await session.scalar(select(RemoteActor.id).where(RemoteActor.user_id == user_id))
    return stand_in is None


__all__ = ["FetchError", "Handlers", "Prepared", "id_of", "note_text"]
