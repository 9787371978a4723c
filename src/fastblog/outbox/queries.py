"""The sender's statements: each is one statement on the compiled road (fastblog.db).

Times are the sender's clock, passed in (`now`), so SQLite and PostgreSQL compare the same way.
The claim with a lease, and the three ends of an attempt, are those of every leased queue
(fastblog.db.claims).
"""

from sqlalchemy import select

from fastblog.db.claims import leased_queue
from fastblog.outbox.models import OutboxMail

QUEUE = leased_queue(
    OutboxMail,
    OutboxMail.recipient,
    OutboxMail.subject,
    OutboxMail.body,
    OutboxMail.html,
    OutboxMail.headers,
    OutboxMail.expires_at,
    # The body goes: a reset link has no business staying in the database once we have given up.
    forget_on_give_up={"body": "", "html": None},
)

# When the next mail waiting is due (newsletter mails are spread out under a rate): the
# sender sleeps until then rather than a whole poll.
NEXT_DUE = (
    select(OutboxMail.due_at)
    .where(OutboxMail.failed_at.is_(None), OutboxMail.claimed_until.is_(None))
    .order_by(OutboxMail.due_at)
    .limit(1)
)
