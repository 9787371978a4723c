"""search: SQLite gets a second FTS5 index, of the titles and tags alone, for the ranking

A search ranks its window by where the query matched: the title, the tags, the text
(fastblog.search.engines). SQLite asked its one FTS5 index the query again restricted to a
column, and FTS5 walks a word's whole list whatever the column: for a phrase of two words in
2-4% of a million posts (74 posts hold the phrase), 1.5-1.9 ms per tier, twice, against
0.1 ms on an index of the titles and tags alone. `posts_tiers`: external content (posts),
kept by triggers on posts like posts_search, built once from the posts and merged into one
segment: ~45 s at a million posts on a loaded machine, writes wait meanwhile. None when this
SQLite lacks FTS5 (search then uses LIKE); PostgreSQL stores its tiers' lexemes (0024).

Revision ID: 9b2e5d7f0c36
Revises: 8a1d4c6e9b25
Create Date: 2026-12-06 18:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

from fastblog.search import schema

revision: str = "9b2e5d7f0c36"
down_revision: str | None = "8a1d4c6e9b25"  # search window index (0025)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _with_fts5() -> bool:
    return op.get_bind().dialect.name == "sqlite" and schema.fts5_available()


def upgrade() -> None:
    if not _with_fts5():
        return
    op.execute(schema.SQLITE_TIERS_TABLE)
    op.execute(schema.SQLITE_TIERS_REBUILD)
    op.execute(f"INSERT INTO {schema.TIERS_TABLE} ({schema.TIERS_TABLE}) VALUES ('optimize')")
    for statement in schema.SQLITE_TIERS_TRIGGERS.values():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in schema.SQLITE_TIERS_TRIGGERS:
        op.execute(schema.drop_trigger(name, sqlite=True))
    op.execute(f"DROP TABLE IF EXISTS {schema.TIERS_TABLE}")
