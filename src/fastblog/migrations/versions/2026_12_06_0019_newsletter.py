"""newsletter: subscriptions, newsletter_issues, newsletter_deliveries, task_leases;
posts.send_newsletter and posts.announce_pending; mail_outbox.html, headers and topic;
site_settings.newsletter_default

Plain ADD COLUMN on every existing table (never a batch rebuild: on SQLite it would lose the
posts' triggers). Existing posts are not pending: nothing published before is ever mailed.

Revision ID: 5d8e2a7c4b19
Revises: 9e4d2c7a1b58
Create Date: 2026-12-06 04:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d8e2a7c4b19"
down_revision: str | None = "9e4d2c7a1b58"  # media (0018)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
PENDING = sa.text("announce_pending")
SITE = sa.text("author_id IS NULL")
AUTHOR = sa.text("author_id IS NOT NULL")
OPEN = sa.text("done_at IS NULL")
TOPIC = sa.text("topic IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "task_leases",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("holder", sa.String(100), nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_task_leases"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("author_id", BIG_ID, nullable=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("confirmed_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name="fk_subscriptions_author_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.UniqueConstraint("token", name="uq_subscriptions_token"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_subscriptions_site_email",
        "subscriptions",
        ["email"],
        unique=True,
        sqlite_where=SITE,
        postgresql_where=SITE,
    )
    op.create_index(
        "uq_subscriptions_author_email",
        "subscriptions",
        ["author_id", "email"],
        unique=True,
        sqlite_where=AUTHOR,
        postgresql_where=AUTHOR,
    )
    op.create_table(
        "newsletter_issues",
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("author_id", BIG_ID, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("cursor", BIG_ID, server_default="0", nullable=False),
        sa.Column("queued", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done_at", TIME, nullable=True),
        sa.Column("stopped_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name="fk_newsletter_issues_post_id_posts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name="pk_newsletter_issues"),
    )
    op.create_index(
        "ix_newsletter_issues_open",
        "newsletter_issues",
        ["created_at"],
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "newsletter_deliveries",
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("queued_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name="fk_newsletter_deliveries_post_id_posts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "email", name="pk_newsletter_deliveries"),
    )
    op.add_column(
        "posts",
        sa.Column("send_newsletter", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "posts",
        sa.Column("announce_pending", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        "ix_posts_announce_pending",
        "posts",
        ["published_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.add_column("mail_outbox", sa.Column("html", sa.Text(), nullable=True))
    op.add_column("mail_outbox", sa.Column("headers", sa.Text(), nullable=True))
    op.add_column("mail_outbox", sa.Column("topic", sa.String(50), nullable=True))
    op.create_index(
        "ix_mail_outbox_topic",
        "mail_outbox",
        ["topic", "recipient"],
        sqlite_where=TOPIC,
        postgresql_where=TOPIC,
    )
    op.add_column(
        "site_settings",
        sa.Column("newsletter_default", sa.Boolean(), server_default=sa.true(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("site_settings", "newsletter_default")
    op.drop_index("ix_mail_outbox_topic", table_name="mail_outbox")
    op.drop_column("mail_outbox", "topic")
    op.drop_column("mail_outbox", "headers")
    op.drop_column("mail_outbox", "html")
    op.drop_index("ix_posts_announce_pending", table_name="posts")
    op.drop_column("posts", "announce_pending")
    op.drop_column("posts", "send_newsletter")
    op.drop_table("newsletter_deliveries")
    op.drop_index("ix_newsletter_issues_open", table_name="newsletter_issues")
    op.drop_table("newsletter_issues")
    op.drop_index("uq_subscriptions_author_email", table_name="subscriptions")
    op.drop_index("uq_subscriptions_site_email", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("task_leases")
