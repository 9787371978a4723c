"""tag_count_versions: a version of the tag list's inputs, moved by every write that changes them

GET /api/tags is read from trigger-kept counters (tag_post_counts, migration 0008) less each
tag's scheduled posts (post_tags' copy of published_at). A process may keep the answer
(fastblog.posts.tag_list_cache) as long as neither changed: this table says whether they did.
Eight rows (slot, changes), like the counters' slots; the version is their sum, and a write
that changes the inputs adds one to a slot in its own transaction, so the version only grows
and moves exactly when (and as soon as) such a write commits, whichever worker or host made it.

What moves it:
- any row of tag_post_counts inserted, updated or deleted (publishing, taking back to draft,
  tagging, untagging, deleting a post or its author; a seed's recount);
- a change of post_tags.published_at (a post rescheduled, or a scheduled post's date moved
  into the past by hand): the counters stay, but which posts the list subtracts changes.
Tags are never renamed (a tag is its name), so the tags table needs no trigger.

SQLite: row triggers (one writer at a time, so any slot will do). PostgreSQL: a deferred
constraint trigger that runs at commit, after every counter lock the transaction takes, and
moves one slot (the transaction's id modulo 8) once per transaction: the only lock it adds is
the last one taken, so it cannot close a deadlock cycle with the counters' own order.

Revision ID: a9f8bd68db5f
Revises: 5d8a1c3e7b90
Create Date: 2026-12-07 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9f8bd68db5f"
down_revision: str | None = "5d8a1c3e7b90"  # search wider merges (0028)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = 8  # fastblog.posts.models.COUNT_SLOTS
MOVE = "ON CONFLICT (slot) DO UPDATE SET changes = tag_count_versions.changes + 1"


def _sqlite_trigger(name: str, event: str, table: str, row: str, when: str = "") -> str:
    # An upsert, not an UPDATE: a slot's row deleted by hand comes back instead of the
    # version standing still.
    return f"""
    CREATE TRIGGER {name} AFTER {event} ON {table} {when} BEGIN
      INSERT INTO tag_count_versions (slot, changes) VALUES ({row}.tag_id % {SLOTS}, 1) {MOVE};
    END
    """


PUBLISHED_AT_MOVED = "OLD.published_at IS NOT NEW.published_at"
SQLITE_TRIGGERS = [
    _sqlite_trigger("tag_counts_versioned_on_insert", "INSERT", "tag_post_counts", "NEW"),
    _sqlite_trigger("tag_counts_versioned_on_update", "UPDATE", "tag_post_counts", "NEW"),
    _sqlite_trigger("tag_counts_versioned_on_delete", "DELETE", "tag_post_counts", "OLD"),
    _sqlite_trigger(
        "tag_counts_versioned_on_published_at",
        "UPDATE OF published_at",
        "post_tags",
        "NEW",
        f"WHEN {PUBLISHED_AT_MOVED}",
    ),
]

# Once per transaction: the first row event moves the version and says so in a setting that
# lasts until the transaction ends (set_config's is_local), the others find it said. A post
# with five tags fires ten events (service.lock_counters' upserts, then the changes); a
# seed's recount thousands: one new row version of one slot each time, not one per event.
POSTGRES_TRIGGERS = [
    f"""
    CREATE FUNCTION tag_count_versions_move() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('fastblog.tag_count_version_moved', true) = 'yes' THEN
        RETURN NULL;
      END IF;
      PERFORM set_config('fastblog.tag_count_version_moved', 'yes', true);
      INSERT INTO tag_count_versions (slot, changes) VALUES (txid_current() % {SLOTS}, 1)
      {MOVE};
      RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER tag_counts_versioned AFTER INSERT OR UPDATE OR DELETE
    ON tag_post_counts DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION tag_count_versions_move()
    """,
    """
    CREATE CONSTRAINT TRIGGER tag_counts_versioned_on_published_at AFTER UPDATE OF published_at
    ON post_tags DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION tag_count_versions_move()
    """,
]

TRIGGERS = {
    "tag_counts_versioned_on_insert": "tag_post_counts",  # SQLite
    "tag_counts_versioned_on_update": "tag_post_counts",  # SQLite
    "tag_counts_versioned_on_delete": "tag_post_counts",  # SQLite
    "tag_counts_versioned": "tag_post_counts",  # PostgreSQL
    "tag_counts_versioned_on_published_at": "post_tags",
}


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "tag_count_versions",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_tag_count_versions")),
    )
    op.execute(
        "INSERT INTO tag_count_versions (slot, changes) VALUES "
        + ", ".join(f"({slot}, 0)" for slot in range(SLOTS))
    )
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    sqlite = _is_sqlite()
    for trigger, table in TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS tag_count_versions_move()")
    op.drop_table("tag_count_versions")
