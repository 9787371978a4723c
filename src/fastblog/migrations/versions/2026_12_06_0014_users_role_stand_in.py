"""users.role: A STAND-IN, to be deleted at the merge of the roles branch

The roles branch owns the real migration for this column (it also maps moderators to
editors and drops is_moderator). This branch needs the column to exist to run its tests;
delete this file when merging: nothing revises it, and the column's definition is the one
the shared contract gives (String(12), not null, server default 'author').

Revision ID: 0b5e7d3c9a12
Revises: 3f6c1a9d2b74
Create Date: 2026-12-06 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0b5e7d3c9a12"
down_revision: str | None = "3f6c1a9d2b74"  # site settings and pages (0013)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns itself): a batch copy of
# users would trip the triggers on it (migration 0011).
def upgrade() -> None:
    op.add_column(
        "users", sa.Column("role", sa.String(12), server_default="author", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "role")
