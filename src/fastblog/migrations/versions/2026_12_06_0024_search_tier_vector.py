"""search: PostgreSQL stores what the ranking reads (the title's and tags' lexemes)

A search ranks the newest 1,000 matches by where the query matched: the title, the tags, the
text (fastblog.search.engines). PostgreSQL made a vector of each match's title and tags on the
spot, ~30 µs a post, most of a rare word's search at a million posts. `posts.tier_vector`, a
generated column (title weight A, tags B; a few words, kept in the row), holds them. Adding it rewrites posts: minutes at a million
posts, writes and reads of posts wait meanwhile. SQLite's FTS5 ranks with column filters on its
own index: nothing to do there.

Revision ID: 5f2c8e1a7b34
Revises: 4e8d2b7c1a90
Create Date: 2026-12-06 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5f2c8e1a7b34"
down_revision: str | None = "4e8d2b7c1a90"  # user tag counts (0023)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# As this revision makes it (fastblog.search.schema.TIER_VECTOR_COLUMN).
TIER_VECTOR = """
ALTER TABLE posts ADD COLUMN tier_vector tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, title), 'A')
  || setweight(to_tsvector('english'::regconfig, tag_names), 'B')
) STORED
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _is_postgres():
        op.execute(TIER_VECTOR)


def downgrade() -> None:
    if _is_postgres():
        op.execute("ALTER TABLE posts DROP COLUMN tier_vector")
