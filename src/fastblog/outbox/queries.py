"""The sender's statements: each is one statement on the compiled road (fastblog.db).

Times are the sender's clock, passed in (`now`), so SQLite and PostgreSQL compare the same way.
"""

from sqlalchemy import Integer, and_, bindparam, delete, or_, select, update

from fastblog.outbox.models import OutboxMail

_CLAIMABLE = and_(
    OutboxMail.failed_at.is_(None),
    OutboxMail.due_at <= bindparam("now"),
    or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until <= bindparam("now")),
)

# A cheap read first: most polls find nothing, and a read takes no write lock on SQLite.
ANY_DUE = select(OutboxMail.id).where(_CLAIMABLE).limit(1)

# When the next mail waiting is due (newsletter mails are spread out under a rate): the
# sender sleeps until then rather than a whole poll.
NEXT_DUE = (
    select(OutboxMail.due_at)
    .where(OutboxMail.failed_at.is_(None), OutboxMail.claimed_until.is_(None))
    .order_by(OutboxMail.due_at)
    .limit(1)
)

# The claim: the due mails get a lease and one more attempt, in one statement. On PostgreSQL
# the inner SELECT locks the rows it picks and skips rows another sender is claiming right now
# (SKIP LOCKED), so two senders never claim one mail; once this commits, the lease keeps the
# mail out of every other claim. SQLite renders no FOR UPDATE: its writers take turns, so the
# UPDATE alone is atomic.
CLAIM = (
    update(OutboxMail)
    .where(
        OutboxMail.id.in_(
            select(OutboxMail.id)
            .where(_CLAIMABLE)
            .order_by(OutboxMail.due_at, OutboxMail.id)
            .limit(bindparam("batch", type_=Integer))
            .with_for_update(skip_locked=True)
        )
    )
    .values(claimed_until=bindparam("lease_end"), attempts=OutboxMail.attempts + 1)
    .returning(
        OutboxMail.id,
        OutboxMail.recipient,
        OutboxMail.subject,
        OutboxMail.body,
        OutboxMail.html,
        OutboxMail.headers,
        OutboxMail.attempts,
        OutboxMail.expires_at,
    )
)

# The three ends of an attempt, each only while the lease is still ours: a sender whose lease
# lapsed (it took too long) must not undo the claim of the sender that took the mail over.
_OURS = and_(OutboxMail.id == bindparam("id"), OutboxMail.claimed_until == bindparam("lease_end"))

SENT = delete(OutboxMail).where(_OURS)

TRY_AGAIN = (
    update(OutboxMail)
    .where(_OURS)
    .values(claimed_until=None, due_at=bindparam("due_at"), last_error=bindparam("error"))
)

# The body goes: a reset link has no business staying in the database once we have given up.
GIVE_UP = (
    update(OutboxMail)
    .where(_OURS)
    .values(
        claimed_until=None,
        failed_at=bindparam("now"),
        last_error=bindparam("error"),
        body="",
        html=None,
    )
)
