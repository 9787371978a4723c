"""federation: ap_actor_keys, ap_remote_actors, ap_followers, ap_inbound, ap_deliveries,
ap_reactions, ap_remote_notes, ap_tombstones, ap_blocked_domains

New tables only: no existing table changes.

Revision ID: 7b3f9e1d2a60
Revises: 5d8e2a7c4b19
Create Date: 2026-12-06 08:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3f9e1d2a60"
down_revision: str | None = "5d8e2a7c4b19"  # newsletter (0019)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
URI = sa.String(500)
PENDING = sa.text("failed_at IS NULL")


def _user_fk(
    table: str, column: str = "user_id", ondelete: str = "CASCADE"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{table}_{column}_users", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "ap_actor_keys",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _user_fk("ap_actor_keys"),
        sa.PrimaryKeyConstraint("user_id", name="pk_ap_actor_keys"),
    )
    op.create_table(
        "ap_remote_actors",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("uri", URI, nullable=False),
        sa.Column("inbox", URI, nullable=False),
        sa.Column("shared_inbox", URI, nullable=True),
        sa.Column("key_id", URI, nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", URI, nullable=True),
        sa.Column("user_id", BIG_ID, nullable=True),
        sa.Column("fetched_at", TIME, nullable=False),
        _user_fk("ap_remote_actors", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_ap_remote_actors"),
        sa.UniqueConstraint("uri", name="uq_ap_remote_actors_uri"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_ap_remote_actors_key_id", "ap_remote_actors", ["key_id"])
    op.create_table(
        "ap_followers",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("actor_id", BIG_ID, nullable=False),
        sa.Column("follow_id", URI, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        _user_fk("ap_followers"),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["ap_remote_actors.id"],
            name="fk_ap_followers_actor_id_ap_remote_actors",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "actor_id", name="pk_ap_followers"),
    )
    op.create_table(
        "ap_inbound",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("user_id", BIG_ID, nullable=True),
        sa.Column("actor", URI, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ap_inbound"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "ap_deliveries",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("activity_id", URI, nullable=False),
        sa.Column("inbox", URI, nullable=False),
        sa.Column("author_id", BIG_ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("claimed_until", TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("failed_at", TIME, nullable=True),
        _user_fk("ap_deliveries", "author_id"),
        sa.PrimaryKeyConstraint("id", name="pk_ap_deliveries"),
        sa.UniqueConstraint("activity_id", "inbox", name="uq_ap_deliveries_activity_id_inbox"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_ap_deliveries_pending",
        "ap_deliveries",
        ["due_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_table(
        "ap_reactions",
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("actor", URI, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("activity_id", URI, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name="fk_ap_reactions_post_id_posts", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "actor", "kind", name="pk_ap_reactions"),
    )
    op.create_table(
        "ap_remote_notes",
        sa.Column("note_id", URI, nullable=False),
        sa.Column("comment_id", BIG_ID, nullable=False),
        sa.Column("actor", URI, nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name="fk_ap_remote_notes_comment_id_comments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("note_id", name="pk_ap_remote_notes"),
        sa.UniqueConstraint("comment_id", name="uq_ap_remote_notes_comment_id"),
    )
    op.create_table(
        "ap_tombstones",
        sa.Column("post_id", BIG_ID, nullable=False),
        sa.Column("author_id", BIG_ID, nullable=False),
        sa.Column("deleted_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("post_id", name="pk_ap_tombstones"),
    )
    op.create_table(
        "ap_blocked_domains",
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("domain", name="pk_ap_blocked_domains"),
    )


def downgrade() -> None:
    for table in (
        "ap_blocked_domains",
        "ap_tombstones",
        "ap_remote_notes",
        "ap_reactions",
        "ap_deliveries",
        "ap_inbound",
        "ap_followers",
        "ap_remote_actors",
        "ap_actor_keys",
    ):
        op.drop_table(table)
