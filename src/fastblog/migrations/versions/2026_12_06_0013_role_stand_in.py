"""STAND-IN for the roles branch's migration: users.role only, so this branch runs alone

The merger deletes this file and points 0014's down_revision at the roles migration.

Revision ID: 5f0c1e2d3a4b
Revises: 5a2866d33f34
Create Date: 2026-12-06 01:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5f0c1e2d3a4b"
down_revision: str | None = "5a2866d33f34"  # likes and follows, main's head
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("role", sa.String(12), server_default="author", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "role")
