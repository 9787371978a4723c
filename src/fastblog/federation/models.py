"""The federation's tables: our authors' keys, the remote actors we know, who follows whom
from afar, what came in and waits to be handled, and what goes out (one row per activity and
inbox: the key that makes a delivery exist once)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fastblog.db import Base, BigId, UTCDateTime, utcnow

URI = 500  # the longest actor, object or inbox address we keep


class ActorKey(Base):
    """An author's RSA key pair, made the first time the author is asked for and kept: remote
    servers cache the public key by its id and would refuse a new one."""

    __tablename__ = "ap_actor_keys"

    # No foreign key: the key outlives a deleted account, to sign the account's Delete and
    # to be fetched by the servers verifying it (fastblog.federation.leaving).
    user_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    private_pem: Mapped[str] = mapped_column(Text)
    public_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteActor(Base):
    """A remote actor as its server last described it (refreshed by Update{Person} or when its
    key stops verifying). `user_id`: the local stand-in account its comments are written
    under, made with its first comment (it cannot log in: its password hash matches nothing)."""

    __tablename__ = "ap_remote_actors"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uri: Mapped[str] = mapped_column(String(URI), unique=True)
    inbox: Mapped[str] = mapped_column(String(URI))
    shared_inbox: Mapped[str | None] = mapped_column(String(URI), default=None)
    key_id: Mapped[str] = mapped_column(String(URI))
    public_key_pem: Mapped[str] = mapped_column(Text)
    username: Mapped[str] = mapped_column(String(100))
    host: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str | None] = mapped_column(String(URI), default=None)
    user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_ap_remote_actors_key_id", RemoteActor.key_id)


class RemoteFollower(Base):
    """A remote actor following one of our authors."""

    __tablename__ = "ap_followers"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ap_remote_actors.id", ondelete="CASCADE"), primary_key=True
    )
    # The Follow's id: an Undo names it, and the Accept repeats it.
    follow_id: Mapped[str] = mapped_column(String(URI))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundActivity(Base):
    """A verified activity waiting for the inbox worker (deleted once handled)."""

    __tablename__ = "ap_inbound"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The user whose inbox it came to (None: the shared inbox).
    user_id: Mapped[int | None] = mapped_column(BigId, default=None)
    actor: Mapped[str] = mapped_column(String(URI))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Delivery(Base):
    """An activity on its way to one inbox: written in the transaction that makes it
    necessary, sent by whichever process claims it (a lease), deleted once the inbox took it.
    Unique on (activity, inbox): queueing it twice, from two hosts or after a crash, is a
    no-op."""

    __tablename__ = "ap_deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox", name="uq_ap_deliveries_activity_id_inbox"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(URI))
    inbox: Mapped[str] = mapped_column(String(URI))
    # Whose key signs it. No foreign key: the Delete of a deleted account is sent after the
    # account is gone (fastblog.federation.leaving).
    author_id: Mapped[int] = mapped_column(BigId)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    # Given up on (the inbox kept failing past FEDERATION_DELIVERY_HOURS): kept for the operator.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


Index(
    "ix_ap_deliveries_pending",
    Delivery.due_at,
    sqlite_where=Delivery.failed_at.is_(None),
    postgresql_where=Delivery.failed_at.is_(None),
)


class Reaction(Base):
    """A remote Like or Announce of one of our posts (counted; an Undo removes it)."""

    __tablename__ = "ap_reactions"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    actor: Mapped[str] = mapped_column(String(URI), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # "like" or "announce"
    activity_id: Mapped[str] = mapped_column(String(URI))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteNote(Base):
    """A remote reply that became a comment: its Note's id, so a Delete or Update finds it."""

    __tablename__ = "ap_remote_notes"

    note_id: Mapped[str] = mapped_column(String(URI), primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("comments.id", ondelete="CASCADE"), unique=True
    )
    actor: Mapped[str] = mapped_column(String(URI))


class Tombstone(Base):
    """A post that was federated and then deleted (or taken back): its address answers 410."""

    __tablename__ = "ap_tombstones"

    post_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    author_id: Mapped[int] = mapped_column(BigId)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlockedDomain(Base):
    """A domain (and its subdomains) whose activities are refused and which gets nothing."""

    __tablename__ = "ap_blocked_domains"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = [
    "ActorKey",
    "BlockedDomain",
    "Delivery",
    "InboundActivity",
    "Reaction",
    "RemoteActor",
    "RemoteFollower",
    "RemoteNote",
    "Tombstone",
]
