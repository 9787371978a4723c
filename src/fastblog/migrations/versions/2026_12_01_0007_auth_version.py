"""users.auth_version: changing it ends every token and browser session of the account

Revision ID: 8a1d4c6e2f90
Revises: 7a4d2c9e5b10
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a1d4c6e2f90"
down_revision: str | None = "7a4d2c9e5b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns): a batch table copy on
# SQLite would lose the expression index on lower(username).
def upgrade() -> None:
    op.add_column(
        "users", sa.Column("auth_version", sa.Integer(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("users", "auth_version")
