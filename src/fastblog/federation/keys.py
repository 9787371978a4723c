"""Each author's RSA key: made on first use (in the process pool: generating a 2048-bit key
is ~50-200 ms of CPU) and kept, since remote servers cache it by its id."""

import asyncio
from concurrent.futures import Executor

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from fastblog.db import Database
from fastblog.federation.keygen import new_key_pair
from fastblog.federation.models import ActorKey


async def actor_key(db: Database, pool: Executor, user_id: int) -> ActorKey:
    """The author's key pair, made and stored the first time. Two processes asking at once
    both make one; the first stored wins and both return it (the insert does nothing on a
    conflict)."""
    async with db.session() as session:
        key = await session.get(ActorKey, user_id)
    if key is not None:
        return key
    private, public = await asyncio.get_running_loop().run_in_executor(pool, new_key_pair)
    async with db.transaction() as session:
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        await session.execute(
            insert(ActorKey)
            .values(user_id=user_id, private_pem=private, public_pem=public)
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        await session.commit()
        stored = (await session.scalars(select(ActorKey).where(ActorKey.user_id == user_id))).one()
    return stored
