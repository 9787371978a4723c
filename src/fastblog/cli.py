"""The `fastblog` command: serve, migrate, seed."""

import argparse
import asyncio
import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from fastblog.config import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    return config


def upgrade_database(database_url: str | None = None) -> None:
    """Upgrade to the latest migration; safe when several processes or hosts do it at once."""
    url = database_url or get_settings().database_url
    with _sqlite_migration_lock(url):
        command.upgrade(alembic_config(url), "head")


@contextlib.contextmanager
def _sqlite_migration_lock(database_url: str) -> Iterator[None]:
    """One upgrade at a time per SQLite file: a lock on a file beside it, held by this process
    (released by the kernel if it dies). PostgreSQL uses an advisory lock (migrations/env.py)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    lock_path = Path(f"{url.database}.migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # blocks: a CLI command, no event loop here
        yield


def serve(
    host: str, port: int, workers: int, reload: bool, *, app: str = "fastblog.main:create_app"
) -> None:
    """Serve `app` (an import string naming an app factory) as production does."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        app,
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # Finish in-flight requests on SIGTERM, within a bound.
        timeout_graceful_shutdown=30,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fastblog", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="serve the app with uvicorn")
    serve_parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve_parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    serve_parser.add_argument("--reload", action="store_true", help="restart on code changes")

    db_parser = commands.add_parser("db", help="database migrations")
    db_parser.add_argument("action", choices=["upgrade"], help="upgrade to the latest migration")

    seed_parser = commands.add_parser("seed", help="fill the database with demo data")
    seed_parser.add_argument("--users", type=int, default=10)
    seed_parser.add_argument("--posts", type=int, default=100)

    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.workers, args.reload)
    elif args.command == "db":
        upgrade_database()
    elif args.command == "seed":
        from fastblog.seed import seed

        users, posts = asyncio.run(seed(get_settings(), users=args.users, posts=args.posts))
        print(f"Seeded {users} users and {posts} posts.")
