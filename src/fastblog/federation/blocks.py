"""Blocked domains: their activities are refused (403) and nothing is delivered to them.
A block covers the domain's subdomains; blocking also forgets the domain's followers and
drops what waits to be delivered there."""

from sqlalchemy import delete, select

from fastblog.db import Database
from fastblog.exceptions import InvalidInputError
from fastblog.federation.delivery import is_blocked
from fastblog.federation.models import BlockedDomain, Delivery, RemoteActor, RemoteFollower


def normalize_domain(domain: str) -> str:
    cleaned = domain.strip().lower().rstrip(".")
    if not cleaned or len(cleaned) > 255 or any(c in cleaned for c in "/ @:?#"):
        raise InvalidInputError(
            f"Not a domain name: {domain[:100]!r} (write it as example.social)", field="domain"
        )
    return cleaned


async def block_domain(db: Database, domain: str) -> int:
    """Block `domain`; how many followers from it were forgotten."""
    domain = normalize_domain(domain)
    async with db.transaction() as session:
        if await session.get(BlockedDomain, domain) is None:
            session.add(BlockedDomain(domain=domain))
        actors = (await session.execute(select(RemoteActor.id, RemoteActor.uri))).all()
        gone = [row.id for row in actors if is_blocked(row.uri, {domain})]
        forgotten = 0
        if gone:
            result = await session.execute(
                delete(RemoteFollower).where(RemoteFollower.actor_id.in_(gone))
            )
            forgotten = int(getattr(result, "rowcount", 0) or 0)
        inboxes = (await session.scalars(select(Delivery.inbox).distinct())).all()
        dropped = [inbox for inbox in inboxes if is_blocked(inbox, {domain})]
        if dropped:
            await session.execute(delete(Delivery).where(Delivery.inbox.in_(dropped)))
        await session.commit()
    return forgotten


async def unblock_domain(db: Database, domain: str) -> bool:
    domain = normalize_domain(domain)
    async with db.transaction() as session:
        result = await session.execute(delete(BlockedDomain).where(BlockedDomain.domain == domain))
        await session.commit()
    return bool(getattr(result, "rowcount", 0))


async def blocked_domains(db: Database) -> list[str]:
    async with db.session() as session:
        return list(
            (
                await session.scalars(select(BlockedDomain.domain).order_by(BlockedDomain.domain))
            ).all()
        )
