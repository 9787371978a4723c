"""How fastblog talks to its database: one object, `Database`, and two roads through it.

The rule, for every query in the app:

- **One statement, no transaction around it** (a page of posts, one post, a count, an
  INSERT … RETURNING that checks what it needs in the same statement): write it as a
  SQLAlchemy Core statement at module level in the domain's `queries.py`, and run it with
  `await db.fetch(STATEMENT, values)` or `await db.write(STATEMENT, values)`. It is compiled
  once, runs on the driver's own connection in one trip, and returns dicts keyed by column
  name, converted by the column types as the ORM would.
- **Anything that needs a transaction, a row lock or several statements** (sign-up, edits,
  deletes, password resets): a function in the domain's `service.py` that opens
  `async with db.transaction() as session` (or receives the session a dependency opened
  with it), uses the ORM, and commits. Plain reads that need ORM objects use `db.session()`.

Routes never hold SQL; they call a service or a query function. `Database` is made in the
lifespan (`fastblog.resources`) and handed to routes by `DatabaseDep`.
"""

from fastblog.db.base import FOR_KEY_SHARE, FOR_UPDATE, Base, BigId, RowLock, UTCDateTime, utcnow
from fastblog.db.compiled import ConstraintViolationError, DatabaseUnavailableError, Row
from fastblog.db.database import Database
from fastblog.db.engine import DatabaseNotWritableError, is_database_unavailable

__all__ = [
    "FOR_KEY_SHARE",
    "FOR_UPDATE",
    "Base",
    "BigId",
    "ConstraintViolationError",
    "Database",
    "DatabaseNotWritableError",
    "DatabaseUnavailableError",
    "Row",
    "RowLock",
    "UTCDateTime",
    "is_database_unavailable",
    "utcnow",
]
