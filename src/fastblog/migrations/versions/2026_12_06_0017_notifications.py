"""notifications for authors: comments on their posts, new followers, likes; the unread
count kept on users; the mail digest's setting and its once-an-hour key

The notifications are written by triggers on comments, post_likes and follows, in the
transaction of the write itself (fastblog.notifications says why), and users.
unread_notifications by triggers on notifications, as the other counters are (0011).

Revision ID: 9d4e2b7a1c58
Revises: 2f685ec92576
Create Date: 2026-12-06 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d4e2b7a1c58"
down_revision: str | None = "2f685ec92576"  # heading outline (0016)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIME = sa.DateTime(timezone=True)
COLUMNS = "(recipient_id, kind, actor_id, post_id, comment_id, created_at)"
# SQLAlchemy's text form of a datetime on SQLite (UTC, microseconds): sorts and compares
# with the values the app writes.
TO_MAIL = sa.text("mailed_at IS NULL AND read_at IS NULL")
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"

SQLITE_TRIGGERS = [
    # A comment notifies the post's author when it is approved: at once, or when a moderator
    # approves it (then at the approval's time). Never one's own comment.
    f"""
    CREATE TRIGGER notify_on_comment AFTER INSERT ON comments
    WHEN NEW.status = 'approved' BEGIN
      INSERT INTO notifications {COLUMNS}
      SELECT posts.user_id, 'comment', NEW.user_id, NEW.post_id, NEW.id, NEW.created_at
      FROM posts WHERE posts.id = NEW.post_id AND posts.user_id <> NEW.user_id;
    END
    """,
    f"""
    CREATE TRIGGER notify_on_comment_approval AFTER UPDATE OF status ON comments
    WHEN OLD.status <> 'approved' AND NEW.status = 'approved' BEGIN
      INSERT INTO notifications {COLUMNS}
      SELECT posts.user_id, 'comment', NEW.user_id, NEW.post_id, NEW.id, {SQLITE_NOW}
      FROM posts WHERE posts.id = NEW.post_id AND posts.user_id <> NEW.user_id;
    END
    """,
    f"""
    CREATE TRIGGER notify_on_like AFTER INSERT ON post_likes BEGIN
      INSERT INTO notifications {COLUMNS}
      SELECT posts.user_id, 'like', NEW.user_id, NEW.post_id, NULL, NEW.created_at
      FROM posts WHERE posts.id = NEW.post_id AND posts.user_id <> NEW.user_id;
    END
    """,
    """
    CREATE TRIGGER unnotify_on_unlike AFTER DELETE ON post_likes BEGIN
      DELETE FROM notifications
      WHERE post_id = OLD.post_id AND actor_id = OLD.user_id AND kind = 'like';
    END
    """,
    f"""
    CREATE TRIGGER notify_on_follow AFTER INSERT ON follows BEGIN
      INSERT INTO notifications {COLUMNS}
      VALUES (NEW.followee_id, 'follow', NEW.follower_id, NULL, NULL, NEW.created_at);
    END
    """,
    """
    CREATE TRIGGER unnotify_on_unfollow AFTER DELETE ON follows BEGIN
      DELETE FROM notifications
      WHERE actor_id = OLD.follower_id AND recipient_id = OLD.followee_id AND kind = 'follow';
    END
    """,
    """
    CREATE TRIGGER notifications_counted_on_insert AFTER INSERT ON notifications
    WHEN NEW.read_at IS NULL BEGIN
      UPDATE users SET unread_notifications = unread_notifications + 1
      WHERE id = NEW.recipient_id;
    END
    """,
    """
    CREATE TRIGGER notifications_counted_on_delete AFTER DELETE ON notifications
    WHEN OLD.read_at IS NULL BEGIN
      UPDATE users SET unread_notifications = unread_notifications - 1
      WHERE id = OLD.recipient_id;
    END
    """,
    """
    CREATE TRIGGER notifications_counted_on_read AFTER UPDATE OF read_at ON notifications
    WHEN (OLD.read_at IS NULL) <> (NEW.read_at IS NULL) BEGIN
      UPDATE users SET unread_notifications = unread_notifications
        + CASE WHEN NEW.read_at IS NULL THEN 1 ELSE -1 END
      WHERE id = NEW.recipient_id;
    END
    """,
]
SQLITE_TRIGGER_NAMES = [
    "notify_on_comment",
    "notify_on_comment_approval",
    "notify_on_like",
    "unnotify_on_unlike",
    "notify_on_follow",
    "unnotify_on_unfollow",
    "notifications_counted_on_insert",
    "notifications_counted_on_delete",
    "notifications_counted_on_read",
]

# PostgreSQL: row triggers for the writes that notify (one row per request); the unread
# count moves by row on insert and delete, and by statement when notifications are marked
# read (one UPDATE of many rows, one UPDATE of the user).
POSTGRES_TRIGGERS = [
    f"""
    CREATE FUNCTION notify_on_comment() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'approved' AND (TG_OP = 'INSERT' OR OLD.status <> 'approved') THEN
        INSERT INTO notifications {COLUMNS}
        SELECT posts.user_id, 'comment', NEW.user_id, NEW.post_id, NEW.id,
               CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE now() END
        FROM posts WHERE posts.id = NEW.post_id AND posts.user_id <> NEW.user_id;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER notify_on_comment AFTER INSERT OR UPDATE OF status ON comments
    FOR EACH ROW EXECUTE FUNCTION notify_on_comment()
    """,
    f"""
    CREATE FUNCTION notify_on_like() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO notifications {COLUMNS}
        SELECT posts.user_id, 'like', NEW.user_id, NEW.post_id, NULL, NEW.created_at
        FROM posts WHERE posts.id = NEW.post_id AND posts.user_id <> NEW.user_id;
      ELSE
        DELETE FROM notifications
        WHERE post_id = OLD.post_id AND actor_id = OLD.user_id AND kind = 'like';
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER notify_on_like AFTER INSERT OR DELETE ON post_likes
    FOR EACH ROW EXECUTE FUNCTION notify_on_like()
    """,
    f"""
    CREATE FUNCTION notify_on_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO notifications {COLUMNS}
        VALUES (NEW.followee_id, 'follow', NEW.follower_id, NULL, NULL, NEW.created_at);
      ELSE
        DELETE FROM notifications
        WHERE actor_id = OLD.follower_id AND recipient_id = OLD.followee_id
          AND kind = 'follow';
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER notify_on_follow AFTER INSERT OR DELETE ON follows
    FOR EACH ROW EXECUTE FUNCTION notify_on_follow()
    """,
    # The post's row is locked before its author's: a comment's own triggers lock the post
    # (its count) in one order or the other relative to this one, and a comment written while
    # another is deleted took them in opposite orders and deadlocked (tests/comments/
    # test_counts.py, 8 writers on PostgreSQL). Post, then user, on every path.
    """
    CREATE FUNCTION notifications_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      note notifications%ROWTYPE;
    BEGIN
      IF TG_OP = 'INSERT' THEN note := NEW; ELSE note := OLD; END IF;
      IF note.read_at IS NOT NULL THEN
        RETURN NULL;
      END IF;
      IF note.post_id IS NOT NULL THEN
        PERFORM 1 FROM posts WHERE id = note.post_id FOR NO KEY UPDATE;
      END IF;
      UPDATE users
      SET unread_notifications = unread_notifications
        + CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END
      WHERE id = note.recipient_id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER notifications_counted AFTER INSERT OR DELETE ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_count_change()
    """,
    """
    CREATE FUNCTION notifications_read_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE users SET unread_notifications = users.unread_notifications + changes.n
      FROM (
        SELECT new_rows.recipient_id,
               sum(CASE WHEN new_rows.read_at IS NULL THEN 1 ELSE -1 END) AS n
        FROM old_rows JOIN new_rows ON new_rows.id = old_rows.id
        WHERE (old_rows.read_at IS NULL) <> (new_rows.read_at IS NULL)
        GROUP BY new_rows.recipient_id ORDER BY new_rows.recipient_id
      ) AS changes
      WHERE users.id = changes.recipient_id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER notifications_counted_on_read AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notifications_read_change()
    """,
]
POSTGRES_TRIGGER_NAMES = {
    "notify_on_comment": "comments",
    "notify_on_like": "post_likes",
    "notify_on_follow": "follows",
}
POSTGRES_FUNCTIONS = [
    "notify_on_comment",
    "notify_on_like",
    "notify_on_follow",
    "notifications_count_change",
    "notifications_read_change",
]


def upgrade() -> None:
    # Plain ADD COLUMN (never a batch rebuild, which on SQLite loses the users' triggers and
    # the expression index on lower(username)).
    op.add_column(
        "users",
        sa.Column("unread_notifications", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "users",
        sa.Column("notify_by_mail", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("recipient_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("actor_id", BIG_ID, nullable=False),
        sa.Column("post_id", BIG_ID, nullable=True),
        sa.Column("comment_id", BIG_ID, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("read_at", TIME, nullable=True),
        sa.Column("mailed_at", TIME, nullable=True),
        sa.CheckConstraint(
            "kind IN ('comment', 'follow', 'like')", name=op.f("ck_notifications_kind")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_notifications_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notifications_actor_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_notifications_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_notifications_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_notifications_recipient_id_id", "notifications", ["recipient_id", "id"])
    op.create_index("ix_notifications_actor_id", "notifications", ["actor_id"])
    op.create_index("ix_notifications_post_id", "notifications", ["post_id"])
    op.create_index("ix_notifications_comment_id", "notifications", ["comment_id"])
    op.create_index(
        "ix_notifications_to_mail",
        "notifications",
        ["created_at", "recipient_id"],
        sqlite_where=TO_MAIL,
        postgresql_where=TO_MAIL,
    )
    op.create_table(
        "notification_digests",
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("hour", TIME, nullable=False),
        sa.Column("sent_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_digests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "hour", name=op.f("pk_notification_digests")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name, table in POSTGRES_TRIGGER_NAMES.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in ("notifications_counted", "notifications_counted_on_read"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON notifications")
        for function in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("notification_digests")
    for index in ("to_mail", "comment_id", "post_id", "actor_id", "recipient_id_id"):
        op.drop_index(f"ix_notifications_{index}", table_name="notifications")
    op.drop_table("notifications")
    op.drop_column("users", "notify_by_mail")
    op.drop_column("users", "unread_notifications")
