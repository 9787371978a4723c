"""roles (owner … reader) instead of is_moderator, posts in review, invitations

Every existing account becomes an author, a moderator an editor, and the oldest account the
owner when there is none. A post in review is a draft with submitted_at set (no new status
value: SQLite's CHECK on posts.status could only change by rebuilding the table, which would
drop its triggers).

Revision ID: 3f6b1d2a9c47
Revises: 5a2866d33f34
Create Date: 2026-12-06 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3f6b1d2a9c47"
down_revision: str | None = "5a2866d33f34"  # likes and follows (0011)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
ONE_OWNER = sa.text("role = 'owner'")

users = sa.table(
    "users",
    sa.column("id", BIG_ID),
    sa.column("role", sa.String(12)),
    sa.column("is_moderator", sa.Boolean()),
)


# Plain ALTER TABLE on both databases (ADD COLUMN, DROP COLUMN: SQLite 3.35+): a batch table
# copy on SQLite would lose the expression index on lower(username) and the posts' triggers.
def upgrade() -> None:
    op.add_column(
        "users", sa.Column("role", sa.String(12), server_default="author", nullable=False)
    )
    op.execute(users.update().where(users.c.is_moderator.is_(sa.true())).values(role="editor"))
    # The oldest account owns the site when nobody does (there is no owner yet: always).
    oldest = sa.select(sa.func.min(users.c.id)).scalar_subquery()
    op.execute(users.update().where(users.c.id == oldest).values(role="owner"))
    op.create_index(
        "uq_users_one_owner",
        "users",
        ["role"],
        unique=True,
        sqlite_where=ONE_OWNER,
        postgresql_where=ONE_OWNER,
    )
    op.drop_column("users", "is_moderator")
    op.add_column("posts", sa.Column("submitted_at", TIME, nullable=True))
    op.create_table(
        "invitations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("email", sa.String(120), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("invited_by_id", BIG_ID, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("accepted_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(
        op.f("ix_invitations_invited_by_id"), "invitations", ["invited_by_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_invitations_invited_by_id"), table_name="invitations")
    op.drop_table("invitations")
    op.drop_column("posts", "submitted_at")  # posts in review go back to plain drafts
    op.add_column(
        "users",
        sa.Column("is_moderator", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    moderating = users.c.role.in_(["owner", "admin", "editor"])
    op.execute(users.update().where(moderating).values(is_moderator=True))
    op.drop_index("uq_users_one_owner", table_name="users")
    op.drop_column("users", "role")
