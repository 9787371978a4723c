from typing import TYPE_CHECKING

from sqlalchemy import Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fastblog.database import Base, BigId

if TYPE_CHECKING:
    from fastblog.posts.models import Post


class User(Base):
    __tablename__ = "users"
    # Ids only grow on SQLite too: a token or link to a deleted account never names a new one.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    email: Mapped[str] = mapped_column(String(120), unique=True)
    image_file: Mapped[str | None] = mapped_column(String(200), default=None)
    # An argon2 hash (never the password); never part of any response schema.
    password_hash: Mapped[str] = mapped_column(String(255))

    # lazy="raise": touching user.posts without eager loading fails loudly in tests
    # instead of attempting hidden I/O. passive_deletes lets the database's
    # ON DELETE CASCADE remove the posts rather than loading them first.
    posts: Mapped[list["Post"]] = relationship(
        back_populates="author", lazy="raise", passive_deletes=True
    )


# Usernames are unique whatever their case: the service checks first, and this index
# settles the race between two simultaneous sign-ups as "corey" and "Corey".
Index("uq_users_username_lower", func.lower(User.username), unique=True)
