"""The secret that signs session cookies and tokens: configured, or made once and kept."""

import logging
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from fastblog.config import Settings

# Values copied from examples and tutorials: anyone could forge sessions with them.
PLACEHOLDERS = frozenset(
    {"changeme", "change-me", "changethis", "secret", "secret-key", "your-secret-key", "dev"}
)
MIN_LENGTH = 32

logger = logging.getLogger(__name__)


class InsecureSecretKeyError(RuntimeError):
    pass


def default_key_file(settings: Settings) -> Path:
    """Beside the SQLite database; in the working directory for a server database."""
    if settings.secret_key_file is not None:
        return settings.secret_key_file
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        return database.with_name(database.name + ".secret")
    return Path("fastblog.secret")


def check_strength(key: str) -> str:
    if key.strip().lower() in PLACEHOLDERS or "changethis" in key.lower():
        raise InsecureSecretKeyError("SECRET_KEY is a known placeholder; set a random value")
    if len(key) < MIN_LENGTH:
        raise InsecureSecretKeyError(f"SECRET_KEY must be at least {MIN_LENGTH} characters")
    return key


def resolve_secret_key(settings: Settings) -> str:
    if settings.secret_key is not None:
        return check_strength(settings.secret_key.get_secret_value())
    path = default_key_file(settings)
    if not settings.is_sqlite:
        # A server database is how several app hosts share a blog; a key file is per machine.
        logger.warning(
            "SECRET_KEY is not set: this host signs sessions and tokens with the key in %s. "
            "Other app hosts make keys of their own and refuse its sessions: give every host "
            "the same SECRET_KEY (deploy/fastblog.env).",
            path.resolve(),
        )
    return check_strength(_load_or_create(path))


def _load_or_create(path: Path) -> str:
    # O_EXCL: when several workers start at once, exactly one writes the file.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_when_written(path)
    key = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as file:
        file.write(key)
    return key


def _read_when_written(path: Path) -> str:
    import time

    for _ in range(50):  # another worker may be between create and write
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise InsecureSecretKeyError(f"{path} is empty; delete it or set SECRET_KEY")
