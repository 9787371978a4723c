"""Remote actors: fetched, cached in ap_remote_actors, refreshed when asked."""

import logging
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.db import Database, utcnow
from fastblog.federation.fetch import FetchError, Remote
from fastblog.federation.models import BlockedDomain, RemoteActor

logger = logging.getLogger(__name__)


class ActorError(Exception):
    """A document that is not a usable actor."""


def _text(value: object, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def actor_values(document: Any) -> dict[str, Any]:
    """The columns of ap_remote_actors from an actor document (ActorError if unusable)."""
    if not isinstance(document, dict):
        raise ActorError("not a JSON object")
    uri, inbox, key = document.get("id"), document.get("inbox"), document.get("publicKey")
    if isinstance(key, list):  # some servers list several keys
        key = next((k for k in key if isinstance(k, dict)), None)
    if not isinstance(uri, str) or not isinstance(inbox, str) or not isinstance(key, dict):
        raise ActorError("an actor needs an id, an inbox and a publicKey")
    pem, key_id = key.get("publicKeyPem"), key.get("id")
    if not isinstance(pem, str) or not isinstance(key_id, str):
        raise ActorError("the actor's publicKey has no id or no publicKeyPem")
    if key.get("owner", uri) != uri:
        raise ActorError("the key's owner is another actor")
    endpoints = document.get("endpoints")
    shared = endpoints.get("sharedInbox") if isinstance(endpoints, dict) else None
    url = document.get("url")
    if isinstance(url, list):
        url = next(iter(url), None)
    if isinstance(url, dict):
        url = url.get("href")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        url = None  # shown as a link: never javascript: or the like
    host = urlsplit(uri).netloc
    return {
        "uri": uri[:500],
        "inbox": inbox[:500],
        "shared_inbox": shared[:500] if isinstance(shared, str) else None,
        "key_id": key_id[:500],
        "public_key_pem": pem,
        "username": _text(document.get("preferredUsername"), 100) or uri.rsplit("/", 1)[-1][:100],
        "host": host[:255],
        "name": _text(document.get("name"), 200),
        "url": url[:500] if isinstance(url, str) else None,
        "fetched_at": utcnow(),
    }


async def store_actor(session: AsyncSession, values: dict[str, Any]) -> RemoteActor:
    """Insert or refresh the cached actor (in the caller's transaction)."""
    actor = await session.scalar(select(RemoteActor).where(RemoteActor.uri == values["uri"]))
    if actor is None:
        actor = RemoteActor(**values)
        session.add(actor)
    else:
        for name, value in values.items():
            setattr(actor, name, value)
    await session.flush()
    return actor


async def fetch_actor(db: Database, remote: Remote, uri: str) -> RemoteActor:
    """Fetch the actor (or the key's owner, for a key id) and cache it. FetchError or
    ActorError when it cannot be had."""
    document = await remote.fetch_json(uri.split("#", 1)[0])
    if isinstance(document, dict) and "inbox" not in document and "owner" in document:
        document = await remote.fetch_json(str(document["owner"]))  # a Key document
    values = actor_values(document)
    async with db.transaction() as session:
        actor = await store_actor(session, values)
        await session.commit()
    return actor


async def cached_actor(db: Database, uri: str) -> RemoteActor | None:
    async with db.session() as session:
        return await session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))


async def key_lookup(
    db: Database, remote: Remote, key_id: str, refresh: bool
) -> tuple[str, str] | None:
    """The signer's (actor id, public key PEM) for a key id: cached, or fetched."""
    if not refresh:
        async with db.session() as session:
            row = (
                await session.execute(
                    select(RemoteActor.uri, RemoteActor.public_key_pem).where(
                        RemoteActor.key_id == key_id
                    )
                )
            ).first()
        if row is not None:
            return row.uri, row.public_key_pem
    try:
        actor = await fetch_actor(db, remote, key_id)
    except (FetchError, ActorError) as exc:
        logger.info("Key %s not fetched: %s", key_id[:200], exc)
        return None
    if actor.key_id != key_id:
        return None
    return actor.uri, actor.public_key_pem


def domain_of(uri: str) -> str:
    return (urlsplit(uri).hostname or "").lower()


async def blocked(db: Database, uri: str) -> bool:
    """Whether the address's host, or a domain above it, is blocked."""
    host = domain_of(uri)
    parts = host.split(".")
    candidates = [".".join(parts[i:]) for i in range(len(parts))]
    async with db.session() as session:
        found = await session.scalar(
            select(BlockedDomain.domain).where(BlockedDomain.domain.in_(candidates)).limit(1)
        )
    return found is not None
