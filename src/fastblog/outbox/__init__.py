"""The mail outbox: a mail is a row written in the transaction that makes it necessary, and
whichever app process is up sends it.

Why an outbox table and not a task queue (procrastinate, taskiq, Celery): no extra service to
run and no new dependency; it works the same on SQLite and PostgreSQL, which a queue built on
PostgreSQL's LISTEN/NOTIFY (procrastinate) or on Redis (taskiq) would not; it is one table;
and the mail commits in the same transaction as what it announces, so a reset token and its
mail exist together or not at all. A queue in another store cannot promise that: the token
could commit and the enqueue fail, or the other way round.

- `queue_mail(session, ...)` adds a mail to the caller's transaction; after the commit,
  `OutboxSender.wake()` makes this process's sender look at once.
- `OutboxSender` runs in every app process (started and stopped by the lifespan). It claims
  due mails with one UPDATE that sets a lease (`claimed_until`); on PostgreSQL the rows are
  picked with `FOR UPDATE SKIP LOCKED`, so senders on several hosts never claim the same one;
  SQLite has one writer at a time, so its UPDATE is the claim. A sent mail is deleted. A
  failed send is tried again later (doubling waits), up to a number of attempts; a process
  killed mid-send leaves a lease that lapses, and another process sends the mail then.

Delivery is at least once: a process killed after the SMTP server took the mail but before
it deleted the row leaves the mail to be sent again when the lease lapses.

See docs/outbox.md.
"""

from fastblog.outbox.models import OutboxMail
from fastblog.outbox.sender import OutboxSender, queue_mail

__all__ = ["OutboxMail", "OutboxSender", "queue_mail"]
