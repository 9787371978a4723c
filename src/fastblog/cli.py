"""The `fastblog` command: serve, migrate, seed, manage roles."""

import argparse
import asyncio
import contextlib
import fcntl
import gc
import importlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from fastblog.config import Settings, get_settings

if TYPE_CHECKING:
    from alembic.config import Config
    from starlette.applications import Starlette
    from starlette.types import ASGIApp

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The app factory `serve` was asked for; read by `served_app` in each worker process
# (uvicorn spawns its workers and reloader afresh, and they inherit the environment).
SERVED_APP_ENV = "FASTBLOG_SERVED_APP"
# Read by prometheus_client in each worker (fastblog.observability.metrics).
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
YOUNG_GC_THRESHOLD = 50_000  # the default is 700; see tune_gc_after_startup

logger = logging.getLogger(__name__)


def alembic_config(database_url: str | None = None) -> "Config":
    # Alembic is imported by the commands that migrate, not by `fastblog serve`: every
    # server process (each test's too) would pay a tenth of its start-up's imports for it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url or get_settings().database_url)
    return config


def upgrade_database(database_url: str | None = None) -> None:
    """Upgrade to the latest migration; safe when several processes or hosts do it at once."""
    url = database_url or get_settings().database_url
    from alembic import command

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
    settings = get_settings()
    processes = 1 if reload else workers
    warn_about_per_process_counts(settings, workers=processes)
    os.environ[SERVED_APP_ENV] = app
    with metrics_across_workers(processes):
        run_uvicorn(host, port, workers, reload, settings)


def run_uvicorn(host: str, port: int, workers: int, reload: bool, settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        f"{__name__}:served_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        access_log=settings.access_log if settings.access_log is not None else reload,
        proxy_headers=True,
        # None: uvicorn reads FORWARDED_ALLOW_IPS itself, else trusts 127.0.0.1.
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_keep_alive=settings.keep_alive_seconds,
        # Finish in-flight requests on SIGTERM, within a bound.
        timeout_graceful_shutdown=30,
    )


@contextlib.contextmanager
def metrics_across_workers(workers: int) -> Iterator[None]:
    """With several workers, prometheus_client's multiprocess mode: every worker writes its
    metrics to files in one folder, which any worker's /metrics reads whole.

    The folder must be known before the workers start (prometheus_client chooses its mode at
    import) and must start empty (an earlier run's files would be counted again): a fresh
    temporary folder, removed at exit, or PROMETHEUS_MULTIPROC_DIR if the operator set it
    (then used even with one worker), emptied first.
    """
    given = os.environ.get(MULTIPROCESS_DIR_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield
        return
    if workers <= 1:
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="fastblog-metrics-"))
    os.environ[MULTIPROCESS_DIR_ENV] = str(folder)
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR_ENV]
        shutil.rmtree(folder, ignore_errors=True)


def warn_about_per_process_counts(settings: Settings, *, workers: int) -> None:
    """Said once, before the workers start: without Redis, each process counts on its own."""
    if workers > 1 and settings.redis_url is None:
        logger.warning(
            "Serving with %d worker processes and no REDIS_URL: login failures (and rate "
            "limits) are counted in each process, so a client gets up to %d times the limit. "
            "Set REDIS_URL to count them across workers and hosts.",
            workers,
            workers,
        )


def served_app() -> "ASGIApp":
    """The factory uvicorn calls in each worker process: the app `serve` was given, with the
    garbage collector tuned for serving once the app has started."""
    from starlette.applications import Starlette

    module, _, name = os.environ[SERVED_APP_ENV].partition(":")
    factory: Callable[[], ASGIApp] = getattr(importlib.import_module(module), name)
    app = factory()
    # A bare ASGI callable (bench's upstream) has no lifespan to wrap; it is served as given.
    if isinstance(app, Starlette):
        tune_gc_after_startup(app)
        drain_before_stopping(app)
    return app


def drain_before_stopping(app: "Starlette") -> None:
    """Once started, SIGTERM first makes /ready answer 503 for SHUTDOWN_GRACE_SECONDS, then
    stops uvicorn (fastblog.shutdown). An app without fastblog's resources stops at once."""
    from fastblog.resources import Resources
    from fastblog.shutdown import drain_on_sigterm

    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: "Starlette") -> AsyncIterator[Any]:
        async with started(app) as state:
            resources = (state or {}).get("resources")
            if not isinstance(resources, Resources):
                yield state
                return
            grace = resources.settings.shutdown_grace_seconds
            with drain_on_sigterm(resources.shutdown, grace):
                yield state

    app.router.lifespan_context = lifespan


def tune_gc_after_startup(app: "Starlette") -> None:
    """Once the lifespan has started, freeze what start-up built and collect young objects
    less often. Only a served process does this: tests make an app per test, and a frozen
    app would never be freed.
    """
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: "Starlette") -> AsyncIterator[Any]:
        async with started(app) as state:
            # ~145k objects (modules, classes, the app, SQLAlchemy and pydantic structures)
            # live as long as the process. A full collection walked them all, ~100 ms of CPU
            # during which no request was answered, every few seconds under load: that set
            # the p99. Frozen, they are never walked again (a full collection then takes well
            # under 1 ms); start-up's garbage is collected first so that it is not frozen.
            gc.collect()
            gc.freeze()
            # The youngest generation was collected whenever 700 more objects were alive than
            # at the last collection. The requests in flight at 64 connections hold more than
            # that, so it ran every ~8 requests, promoting their objects to be walked again:
            # 6-10% of the time. Above what requests in flight hold, it runs only once garbage
            # has really accumulated: seconds apart, ~1 ms per 50k live young objects.
            gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
            yield state

    app.router.lifespan_context = lifespan


async def _set_role(settings: Settings, email: str, role: str) -> str | None:
    from fastblog.accounts.role_changes import change_role, user_id_by_email
    from fastblog.accounts.roles import Role
    from fastblog.db import Database

    db = Database.open(settings)
    try:
        user_id = await user_id_by_email(db, email)
        if user_id is None:
            return None
        account = await change_role(db, target_id=user_id, role=Role(role), by_id=None)
    finally:
        await db.close()
    return account.username


async def _prune_media(settings: Settings, grace: timedelta) -> list[str]:
    """`fastblog media prune`: the pictures no post (content or feature image) or page names,
    uploaded longer ago than `grace`, deleted from the store and the database."""
    from sqlalchemy import select

    from fastblog.db import Database, utcnow
    from fastblog.media.service import keys_in, prune_pictures
    from fastblog.media.store import open_media_store
    from fastblog.posts.models import Post
    from fastblog.site.models import Page

    db = Database.open(settings)
    store = await open_media_store(settings)
    try:
        older_than = utcnow() - grace  # before reading what is in use: a later upload waits
        in_use: set[str] = set()
        async with db.session() as session:
            statements = (
                select(Post.content),
                select(Post.feature_image).where(Post.feature_image.is_not(None)),
                select(Page.content),
            )
            for statement in statements:
                # Streamed: a large blog's posts never sit in memory all at once.
                async for text in await session.stream_scalars(
                    statement.execution_options(yield_per=500)
                ):
                    in_use |= keys_in(text or "")
        return await prune_pictures(db, store, older_than=older_than, in_use=in_use)
    finally:
        await store.aclose()
        await db.close()


def prune_media(grace_hours: float) -> int:
    removed = asyncio.run(_prune_media(get_settings(), timedelta(hours=grace_hours)))
    print(f"Removed {len(removed)} unused picture{'' if len(removed) == 1 else 's'}.")
    return 0


# The moderator commands of before roles: a moderator is now an editor.
ROLE_ALIASES = {"grant-moderator": "editor", "revoke-moderator": "author"}


def set_role(email: str, role: str) -> int:
    """`fastblog users set-role EMAIL ROLE` (and its aliases): the exit status. The app reads
    the role on every request, so it applies at once to sessions and tokens."""
    from fastblog.accounts.service import normalize_email
    from fastblog.exceptions import DomainError

    email = normalize_email(email)  # as sign-up stored it
    try:
        username = asyncio.run(_set_role(get_settings(), email, role))
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    if username is None:
        print(f"No account has the email address {email!r}.", file=sys.stderr)
        return 1
    print(f"{username} ({email}) is now {'an' if role[0] in 'aeiou' else 'a'} {role}.")
    return 0


async def _federation_command(settings: Settings, action: str, domain: str | None) -> str:
    from fastblog.db import Database
    from fastblog.federation import blocks

    db = Database.open(settings)
    try:
        if action == "block":
            forgotten = await blocks.block_domain(db, str(domain))
            return (
                f"Blocked {blocks.normalize_domain(str(domain))} ({forgotten} followers forgotten)."
            )
        if action == "unblock":
            done = await blocks.unblock_domain(db, str(domain))
            return f"Unblocked {domain}." if done else f"{domain} was not blocked."
        return "\n".join(await blocks.blocked_domains(db)) or "No domain is blocked."
    finally:
        await db.close()


def federation_command(action: str, domain: str | None) -> int:
    """`fastblog federation block|unblock DOMAIN`, `fastblog federation blocked`."""
    from fastblog.exceptions import DomainError

    try:
        print(asyncio.run(_federation_command(get_settings(), action, domain)))
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    return 0


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

    seed_parser = commands.add_parser(
        "seed",
        help="add the demo blog, or with --users/--posts generated data for load tests "
        "(a million posts take a few minutes)",
    )
    seed_parser.add_argument(
        "--demo",
        action="store_true",
        help="a small blog to look at: people, about fifteen posts, comments, likes "
        "(the default without --users and --posts; added once)",
    )
    seed_parser.add_argument(
        "--users", type=_count, default=None, help="generated users to add (10)"
    )
    seed_parser.add_argument(
        "--posts", type=_count, default=None, help="generated posts to add (100)"
    )
    seed_parser.add_argument(
        "--random-seed", type=int, default=None, help="the same number gives the same text"
    )
    seed_parser.add_argument(
        "--workers", type=_count, default=None, help="processes writing text (one per CPU)"
    )

    users_parser = commands.add_parser("users", help="manage accounts' roles")
    roles = users_parser.add_subparsers(dest="action", required=True)
    set_role_parser = roles.add_parser(
        "set-role", help="give an account a role ('owner' hands ownership on)"
    )
    set_role_parser.add_argument("email")
    set_role_parser.add_argument(
        "role", choices=["owner", "admin", "editor", "author", "contributor", "reader"]
    )
    for action, role_help in (
        ("grant-moderator", "the same as set-role EMAIL editor"),
        ("revoke-moderator", "the same as set-role EMAIL author"),
    ):
        roles.add_parser(action, help=role_help).add_argument("email")

    media_parser = commands.add_parser("media", help="uploaded pictures")
    media_actions = media_parser.add_subparsers(dest="action", required=True)
    prune_parser = media_actions.add_parser(
        "prune", help="remove the pictures no post or page uses, once the grace period is over"
    )
    prune_parser.add_argument(
        "--grace-hours",
        type=float,
        default=24.0,
        help="spare pictures uploaded more recently than this (24): a post being written "
        "may not be saved yet",
    )

    federation_parser = commands.add_parser("federation", help="ActivityPub: blocked domains")
    federation_actions = federation_parser.add_subparsers(dest="action", required=True)
    federation_actions.add_parser(
        "block", help="refuse a domain's activities and deliver nothing to it"
    ).add_argument("domain")
    federation_actions.add_parser("unblock", help="take a domain off the list").add_argument(
        "domain"
    )
    federation_actions.add_parser("blocked", help="list the blocked domains")

    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port, args.workers, args.reload)
    elif args.command == "db":
        upgrade_database()
    elif args.command == "seed":
        generated = args.users is not None or args.posts is not None
        if args.demo and (generated or args.random_seed is not None or args.workers):
            seed_parser.error("--demo takes no other option: --users and --posts generate data")
        if generated:
            users, posts = args.users, args.posts
            run_seed(
                10 if users is None else users,
                100 if posts is None else posts,
                random_seed=args.random_seed,
                workers=args.workers,
            )
        else:
            sys.exit(run_demo_seed())
    elif args.command == "media":
        sys.exit(prune_media(args.grace_hours))
    elif args.command == "federation":
        sys.exit(federation_command(args.action, getattr(args, "domain", None)))
    elif args.command == "users":
        role = args.role if args.action == "set-role" else ROLE_ALIASES[args.action]
        sys.exit(set_role(args.email, role))


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def run_seed(users: int, posts: int, *, random_seed: int | None, workers: int | None) -> None:
    """Seed, with a progress bar on stderr (posts written, their rate, the time left), then
    the time it took."""
    import time

    from fastblog.seed import DEFAULT_RNG_SEED, seed
    from fastblog.seed.progress import seed_progress

    started = time.perf_counter()
    with seed_progress(posts) as progress:
        seeded = asyncio.run(
            seed(
                get_settings(),
                users=users,
                posts=posts,
                rng_seed=DEFAULT_RNG_SEED if random_seed is None else random_seed,
                workers=workers,
                progress=progress,
            )
        )
    seconds = time.perf_counter() - started
    print(
        f"Seeded {seeded.users} users and {seeded.posts} posts in {seconds:.1f} s "
        f"({seeded.posts / seconds:,.0f} posts/s)."
    )


def run_demo_seed() -> int:
    """Add the demo blog (0), or say why nothing was added (1)."""
    from fastblog.seed.demo_blog import DEMO_PASSWORD, DemoAlreadySeededError, seed_demo

    try:
        seeded = asyncio.run(seed_demo(get_settings()))
    except DemoAlreadySeededError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"Added the demo blog: {seeded.people} people, {seeded.published} published posts, "
        f"{seeded.drafts} drafts, {seeded.scheduled} scheduled, {seeded.comments} comments, "
        f"{seeded.likes} likes, {seeded.follows} follows.\n"
        f"Log in as mara@example.com (the owner), tom@ (editor), kenji@, elena@ (authors) "
        f"or sam@example.com (a reader) "
        f"with the password {DEMO_PASSWORD!r}."
    )
    return 0
