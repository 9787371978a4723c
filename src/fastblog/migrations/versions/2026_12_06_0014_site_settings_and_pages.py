"""site_settings (one row) and pages (static pages served at /{slug})

The settings row is written by the first app process to start (its values from the
environment: fastblog.site.store), not here: a migration run by `fastblog db upgrade` in a
deploy step may not see the app's environment.

Revision ID: 3f6c1a9d2b74
Revises: 5a2866d33f34
Create Date: 2026-12-06 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6c1a9d2b74"
down_revision: str | None = "3f6b1d2a9c47"  # roles, review, invitations (0013)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("navigation", sa.Text(), nullable=False),
        sa.Column("footer", sa.String(500), nullable=False),
        sa.Column("registration", sa.String(12), nullable=False),
        sa.Column("new_account_role", sa.String(12), nullable=False),
        sa.Column("comments", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("posts_per_page", sa.Integer(), nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_site_settings_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_settings")),
    )
    op.create_table(
        "pages",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_html", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_pages_slug")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("pages")
    op.drop_table("site_settings")
