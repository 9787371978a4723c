"""page_versions: a version of everything a public page shows, moved by every write to it

A process may keep the HTML it rendered for a reader who is not logged in
(fastblog.posts.page_store) as long as nothing that page could show has changed since. This
table says whether it has: eight rows (slot, changes), like tag_count_versions (0029); the
version is their sum, and any write to a table whose rows a public page shows adds one to a
slot in the writing transaction, so the version moves exactly when (and as soon as) such a
write commits, whichever worker or host made it.

The tables (PUBLIC_TABLES): posts and their tags, users (names, pictures, bios), comments,
likes, the fediverse's replies, reactions and followers, follows, the site's settings and
pages, pictures, blocked domains, newsletter issues. Not: sessions' and the mail's
bookkeeping, tokens, counters (derived from the tables above, in the same transactions),
notifications, deliveries, leases, invitations, subscriptions.

SQLite: row triggers (one writer at a time, so one slot will do). PostgreSQL: a deferred
constraint trigger per table that runs at commit, after every lock the transaction takes, and
moves one slot once per transaction (as 0029's): the only lock it adds is the last one taken,
so it cannot close a deadlock cycle with the counters' own order. One consequence: PostgreSQL
refuses DDL on a table with trigger events pending, so a transaction that writes one of these
tables and then alters or indexes it runs `SET CONSTRAINTS ALL IMMEDIATE` first (the app's
schema changes do, in fastblog.db.ddl.lock_for_schema_change; a later migration must).

Revision ID: 3c61f0b2d9e4
Revises: 8bab44cf14aa
Create Date: 2026-12-08 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c61f0b2d9e4"
down_revision: str | None = "8bab44cf14aa"  # scheduled counts (0030)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # fastblog.posts.models.COUNT_SLOTS
MOVE = "ON CONFLICT (slot) DO UPDATE SET changes = page_versions.changes + 1"
PUBLIC_TABLES = (
    "posts",
    "post_tags",
    "tags",
    "users",
    "comments",
    "post_likes",
    "follows",
    "site_settings",
    "pages",
    "media",
    "newsletter_issues",
    "ap_remote_actors",
    "ap_remote_notes",
    "ap_reactions",
    "ap_followers",
    "ap_tombstones",
    "ap_blocked_domains",
)
EVENTS = ("INSERT", "UPDATE", "DELETE")


def _sqlite_triggers(table: str) -> list[str]:
    # An upsert, not an UPDATE: a slot's row deleted by hand comes back instead of the
    # version standing still.
    return [
        f"""
        CREATE TRIGGER {table}_page_versioned_on_{event.lower()} AFTER {event} ON {table}
        BEGIN
          INSERT INTO page_versions (slot, changes) VALUES (0, 1) {MOVE};
        END
        """
        for event in EVENTS
    ]


# Once per transaction: the first row event moves the version and says so in a setting that
# lasts until the transaction ends (set_config's is_local), the others find it said.
POSTGRES_FUNCTION = f"""
CREATE FUNCTION page_versions_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('fastblog.page_version_moved', true) = 'yes' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('fastblog.page_version_moved', 'yes', true);
  INSERT INTO page_versions (slot, changes) VALUES (txid_current() % {SLOTS}, 1) {MOVE};
  RETURN NULL;
END $$
"""


def _postgres_trigger(table: str) -> str:
    return f"""
    CREATE CONSTRAINT TRIGGER {table}_page_versioned AFTER INSERT OR UPDATE OR DELETE
    ON {table} DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION page_versions_move()
    """


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "page_versions",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_page_versions")),
    )
    op.execute(
        "INSERT INTO page_versions (slot, changes) VALUES "
        + ", ".join(f"({slot}, 0)" for slot in range(SLOTS))
    )
    if _is_sqlite():
        for table in PUBLIC_TABLES:
            for statement in _sqlite_triggers(table):
                op.execute(statement)
        return
    op.execute(POSTGRES_FUNCTION)
    for table in PUBLIC_TABLES:
        op.execute(_postgres_trigger(table))


def downgrade() -> None:
    if _is_sqlite():
        for table in PUBLIC_TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_page_versioned_on_{event.lower()}")
    else:
        for table in PUBLIC_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_page_versioned ON {table}")
        op.execute("DROP FUNCTION IF EXISTS page_versions_move()")
    op.drop_table("page_versions")
