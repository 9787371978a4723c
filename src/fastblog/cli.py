"""The `fastblog` command: serve, migrate, seed."""

import argparse
import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from fastblog.config import get_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    return config


def upgrade_database(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url), "head")


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
        access_log=settings.access_log if settings.access_log is not None else reload,
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
