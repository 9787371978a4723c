"""media: pictures uploaded for posts (their variants' content-hashed keys in the media store);
posts.feature_image, feature_image_alt and picture (the share picture, worked out when a post
is written); site_settings.share_image

Plain ADD COLUMN (never a batch rebuild: on SQLite it would lose the posts' triggers).

Revision ID: 9e4d2c7a1b58
Revises: 9d4e2b7a1c58
Create Date: 2026-12-06 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4d2c7a1b58"
down_revision: str | None = "9d4e2b7a1c58"  # notifications (0017)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("owner_id", BIG_ID, nullable=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("alt", sa.String(500), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("variants", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_media_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("key", name=op.f("uq_media_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_media_owner_id"), "media", ["owner_id"])
    op.create_index(op.f("ix_media_created_at"), "media", ["created_at"])
    op.add_column("posts", sa.Column("feature_image", sa.String(300), nullable=True))
    op.add_column("posts", sa.Column("feature_image_alt", sa.String(500), nullable=True))
    op.add_column("posts", sa.Column("picture", sa.Text(), nullable=True))
    op.add_column(
        "site_settings",
        sa.Column("share_image", sa.String(300), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("site_settings", "share_image")
    for column in ("picture", "feature_image_alt", "feature_image"):
        op.drop_column("posts", column)
    op.drop_index(op.f("ix_media_created_at"), table_name="media")
    op.drop_index(op.f("ix_media_owner_id"), table_name="media")
    op.drop_table("media")
