"""A table of work claimed in batches with a lease: the mail outbox and the federation's
deliveries. Every process runs a sender; each claims the due rows it will try, tries each once
and records how it went, and a process killed mid-way leaves rows whose lease lapses.

`leased_queue(Model, *columns)` builds the five statements such a sender runs, for a table
with `id`, `due_at`, `claimed_until`, `attempts`, `last_error` and `failed_at`. Each is one
statement on the compiled road (fastblog.db); times are the sender's clock, passed in (`now`),
so SQLite and PostgreSQL compare the same way.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Integer, Select, Update, and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement


@dataclass(frozen=True, slots=True)
class LeasedQueue:
    # A cheap read first: most polls find nothing, and a read takes no write lock on SQLite.
    any_due: Select[Any]
    # {now, lease_end, batch}: the due rows get a lease and one more attempt, and come back.
    claim: Update
    # The three ends of an attempt, {id, lease_end, ...}: each only while the lease is still
    # ours, so a sender whose lease lapsed (it took too long) cannot undo the claim of the
    # sender that took the row over.
    sent: Delete  # done: the row goes
    try_again: Update  # {due_at, error}: free again from `due_at`
    give_up: Update  # {now, error}: kept, failed, for the operator


def leased_queue(
    model: Any,  # a mapped class with the columns above (a Protocol of Mapped[...] fails mypy)
    *returning: ColumnElement[Any] | Mapped[Any],
    forget_on_give_up: Mapping[str, Any] | None = None,
) -> LeasedQueue:
    """The statements of a sender of `model`'s rows; the claim returns `returning` (and the
    id). `forget_on_give_up`: values that overwrite what a row given up need not keep."""
    claimable = and_(
        model.failed_at.is_(None),
        model.due_at <= bindparam("now"),
        or_(model.claimed_until.is_(None), model.claimed_until <= bindparam("now")),
    )
    # On PostgreSQL the inner SELECT locks the rows it picks and skips rows another sender is
    # claiming right now (SKIP LOCKED), so two senders never claim one row; once this commits,
    # the lease keeps the row out of every other claim. SQLite renders no FOR UPDATE: its
    # writers take turns, so the UPDATE alone is atomic.
    claim = (
        update(model)
        .where(
            model.id.in_(
                select(model.id)
                .where(claimable)
                .order_by(model.due_at, model.id)
                .limit(bindparam("batch", type_=Integer))
                .with_for_update(skip_locked=True)
            )
        )
        .values(claimed_until=bindparam("lease_end"), attempts=model.attempts + 1)
        .returning(model.id, model.attempts, *returning)
    )
    ours = and_(model.id == bindparam("id"), model.claimed_until == bindparam("lease_end"))
    return LeasedQueue(
        any_due=select(model.id).where(claimable).limit(1),
        claim=claim,
        sent=delete(model).where(ours),
        try_again=update(model)
        .where(ours)
        .values(claimed_until=None, due_at=bindparam("due_at"), last_error=bindparam("error")),
        give_up=update(model)
        .where(ours)
        .values(
            claimed_until=None,
            failed_at=bindparam("now"),
            last_error=bindparam("error"),
            **(forget_on_give_up or {}),
        ),
    )
