"""The application factory: everything with a lifetime is opened and closed in the lifespan."""

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig

from fastblog import health
from fastblog.accounts import api as accounts_api
from fastblog.accounts import auth_api, auth_views, follow_views, invitation_api, invitation_views
from fastblog.accounts import views as accounts_views
from fastblog.accounts.deletion import AccountDeletion
from fastblog.accounts.dependencies import load_page_user
from fastblog.accounts.signing_key import resolve_secret_key
from fastblog.admin import pages_api, pages_views, site_api
from fastblog.admin import views as admin_views
from fastblog.background import stop_together
from fastblog.comments import admin as comments_admin
from fastblog.comments import api as comments_api
from fastblog.comments import views as comments_views
from fastblog.compression import CompressionMiddleware
from fastblog.config import Settings, get_settings
from fastblog.db import Database
from fastblog.docs import install_docs
from fastblog.errors import CATCH_ALL_ROUTE, install_error_handlers, on_database_error
from fastblog.federation import blocks_api as federation_blocks
from fastblog.federation import routes as federation_routes
from fastblog.federation.negotiation import ActivityNegotiationMiddleware
from fastblog.federation.runtime import Federation
from fastblog.head import HeadAsGetMiddleware
from fastblog.hosts import AllowedHostsMiddleware
from fastblog.limits import BodySizeLimitMiddleware, BodyTooLargeError
from fastblog.mail import Mailer
from fastblog.media import api as media_api
from fastblog.media import files as media_files
from fastblog.media import views as media_views
from fastblog.media.store import image_sources, open_media_store
from fastblog.newsletter import admin as newsletter_admin
from fastblog.newsletter import api as newsletter_api
from fastblog.newsletter import views as newsletter_views
from fastblog.newsletter.sending import IssueSender
from fastblog.newsletter.sending import install as install_newsletter
from fastblog.notifications import api as notifications_api
from fastblog.notifications import views as notifications_views
from fastblog.notifications.digest import DigestSender
from fastblog.observability import install_observability
from fastblog.outbox import OutboxSender
from fastblog.passwords import PasswordHasher
from fastblog.posts import api as posts_api
from fastblog.posts import markdown, social_api, social_views, syndication
from fastblog.posts import service as posts_service
from fastblog.posts import views as posts_views
from fastblog.posts.page_store import PageVersions
from fastblog.posts.tag_list_cache import TagListCache
from fastblog.posts.visibility import PostVisibility
from fastblog.proxied import ProxySeenWarningMiddleware, ProxyWarning
from fastblog.resources import Resources
from fastblog.routing import add_routes
from fastblog.search import api as search_api
from fastblog.search import views as search_views
from fastblog.search.like import warn_if_degraded
from fastblog.security import SecurityHeadersMiddleware
from fastblog.site.store import SiteSettingsStore
from fastblog.threadpools import sized_thread_pools
from fastblog.throttle import (
    CounterStore,
    MemoryStore,
    RedisStore,
    login_throttle,
    mail_throttle,
)
from fastblog.web import root_files
from fastblog.web.kept_pages import KeptPages
from fastblog.web.page_cache import PageCacheMiddleware
from fastblog.web.session import PageSessionMiddleware
from fastblog.web.static_files import STATIC_DIR, HashedStaticFiles, static_digests
from fastblog.write_limits import MemoryCounts, RedisCounts, WriteCounts, write_limiter

if TYPE_CHECKING:
    from redis.asyncio import Redis

TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

OPENAPI_TAGS = [
    {"name": "posts", "description": "Read anyone's posts; write your own."},
    {"name": "users", "description": "Accounts, profiles and profile pictures."},
    {"name": "auth", "description": "Tokens and password resets."},
    {"name": "media", "description": "Pictures for posts: upload, then link from Markdown."},
    {"name": "site", "description": "The site's settings, and its static pages (About, ...)."},
    {
        "name": "notifications",
        "description": "Comments on your posts, new followers and likes; read or not.",
    },
    {
        "name": "subscriptions",
        "description": "New posts by email: subscribing, and for admins the subscribers.",
    },
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "monitoring", "description": "Prometheus metrics."},
    {"name": "lab", "description": "Experiments that show when async pays off (`LAB_ENABLED`)."},
]

DESCRIPTION = """
The JSON API of fastblog: users and their posts.

Lists are paginated by cursor: each page answers `next_cursor`; send it back as `cursor` for
the next page (null on the last). `limit` is at most 100; `skip` (up to 1,000) jumps ahead.
Writes need a bearer token: `POST /api/users/token` with your email (or username) and password,
or the **Authorize** button above.
"""


WORKER_NICENESS = 10


def create_process_pool(*, workers: int) -> ProcessPoolExecutor:
    # "spawn": a fresh interpreter per worker. Forking a process that already runs
    # threads (the database driver's, the thread pool's) can copy a held lock and hang.
    # Workers start on first use, so an app that never resizes a picture pays nothing.
    # They run at a lower priority (nice +10): with as many workers as cores, ten picture
    # uploads would otherwise take every core from the event loop, and every request would
    # wait for the scheduler (bench/media_upload.py, docs/performance.md#pictures).
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=os.nice,
        initargs=(WORKER_NICENESS,),
    )


def redis_client(settings: Settings) -> "Redis | None":
    """A client of REDIS_URL, if set. redis-py is imported only then: a site without Redis
    (and every test server) would otherwise import it at every start (python -X importtime)."""
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(settings.redis_url)


def lab_lifespan(settings: Settings) -> contextlib.AbstractAsyncContextManager[dict[str, Any]]:
    """The lab's part of the lifespan (its shared HTTP client) when LAB_ENABLED. The lab is
    imported only then: it brings aiohttp, which a site without the lab would import at every
    start for nothing (python -X importtime)."""
    if not settings.lab_enabled:
        return contextlib.nullcontext({})
    from fastblog.lab.resources import lab_resources

    return lab_resources(settings)


def create_counter_store(settings: Settings, redis: "Redis | None") -> CounterStore:
    """Throttling counts: in Redis, shared by every worker, when REDIS_URL is set."""
    if redis is None:
        return MemoryStore()
    return RedisStore(redis, prefix=f"{settings.redis_key_prefix}throttle:")


def create_write_counts(settings: Settings, redis: "Redis | None") -> WriteCounts:
    """Writes per user and minute: in Redis, shared by every worker, when REDIS_URL is set."""
    if redis is None:
        return MemoryCounts()
    return RedisCounts(redis, prefix=f"{settings.redis_key_prefix}writes:")


def create_app(
    settings: Settings | None = None, *, process_pool: ProcessPoolExecutor | None = None
) -> FastAPI:
    """The app. `process_pool`: one the caller owns and shuts down, shared by the apps it
    creates (the tests start hundreds of apps in a process, and each pool's first task would
    start a worker interpreter, ~1.5 CPU-s); by default the lifespan makes its own."""
    settings = settings or get_settings()
    secret_key = resolve_secret_key(settings)  # refuses a placeholder before serving anything
    # Without Redis the counts are per process: said once if a proxy shows (fastblog.proxied).
    proxy_warning = ProxyWarning() if settings.redis_url is None else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        database = Database.open(settings)
        pool = process_pool or create_process_pool(
            workers=settings.process_pool_workers or os.cpu_count() or 1
        )
        redis = redis_client(settings)
        media = await open_media_store(settings)
        counters = create_counter_store(settings, redis)
        mailer = Mailer(settings)
        outbox = OutboxSender(database, mailer, settings)
        site = SiteSettingsStore(database, settings)
        # Notification digest mails, through the outbox (fastblog.notifications.digest).
        digests = DigestSender(database, outbox, site, settings)
        resources = Resources(
            settings=settings,
            secret_key=secret_key,
            database=database,
            password_hasher=PasswordHasher(settings),
            login_throttle=login_throttle(settings, counters),
            mail_throttle=mail_throttle(settings, counters),
            write_limiter=write_limiter(settings, create_write_counts(settings, redis)),
            mailer=mailer,
            outbox=outbox,
            site=site,
            redis=redis,
            media=media,
            process_pool=pool,
        )
        # A post becoming visible is announced once (fastblog.posts.visibility); the
        # newsletter reacts to it, and posts know nothing of the newsletter.
        visibility = PostVisibility(database, settings)
        # GET /api/tags' answers, kept while the database says they are current.
        tag_list_cache = TagListCache(database)
        # Public pages, kept while the database says they are current (PAGE_CACHE_MB).
        kept_pages = KeptPages(
            PageVersions(database, site), max_bytes=settings.page_cache_mb * 1024 * 1024
        )
        issues = IssueSender(database, outbox, settings, site, pool)
        install_newsletter(visibility, issues)
        # An account's deletion: what other packages must do in its transaction.
        account_deletion = AccountDeletion()
        # First: the day rows of the account's scheduled posts, before its cascade of posts.
        account_deletion.on_delete(posts_service.lock_authors_scheduled_days)
        # ActivityPub reacts to the same events (fastblog.federation).
        federation = (
            Federation(
                settings=settings,
                database=database,
                pool=pool,
                site=site,
                visibility=visibility,
                account_deletion=account_deletion,
            )
            if settings.federation_enabled
            else None
        )
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        if proxy_warning is not None:
            proxy_warning.at_start_up(settings.forwarded_allow_ips)
        warn_if_degraded(database)
        # In a thread, while the server starts: a first post rendered on the loop would
        # otherwise pay for it (see fastblog.posts.markdown.warm_up).
        warming = asyncio.get_running_loop().run_in_executor(None, markdown.warm_up)
        try:
            async with (
                sized_thread_pools(settings),
                observability.running(settings, database.engine),
                lab_lifespan(settings) as lab,
            ):
                outbox.start()
                await site.start()  # the settings are read before the first request
                digests.start()
                visibility.start()
                issues.start()
                if federation is not None:
                    federation.start()
                # Starlette's lifespan state: every request sees it as request.state.
                yield {
                    "resources": resources,
                    "post_visibility": visibility,
                    "tag_list_cache": tag_list_cache,
                    "kept_pages": kept_pages,
                    "account_deletion": account_deletion,
                    "federation": federation,
                    # The author page's "Follow from the fediverse" (fastblog.posts.views).
                    "author_fediverse": federation.author_fediverse if federation else None,
                    **lab,
                }
        finally:
            await stop_together(
                *([federation.stop()] if federation is not None else []),
                digests.stop(),  # before the outbox: a digest it queues is sent
                visibility.stop(),
                issues.stop(),
                site.stop(),
            )
            await outbox.stop()  # before the database closes: the sends in flight finish
            await warming
            # Joining the workers blocks, so it happens off the loop; queued work is dropped.
            # A pool the caller gave is the caller's to shut down.
            if process_pool is None:
                await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
            if redis is not None:
                await redis.aclose()
            await media.aclose()
            await database.close()

    app = FastAPI(
        title="fastblog",
        summary="An async-first blog: users, posts, HTML pages and a JSON API.",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs, without a CDN
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_tags=OPENAPI_TAGS,
        telemetry=None if settings.opentelemetry else TELEMETRY_OFF,
    )
    install_error_handlers(app, page_user=load_page_user)
    app.add_exception_handler(BodyTooLargeError, posts_views.on_post_form_too_large)
    # First added: innermost. Validators are made from a page's own bytes, before compression
    # (which gives the compressed variant its own ETag); HEAD is a GET whose body is dropped
    # after both, so its headers are the GET's.
    app.add_middleware(PageCacheMiddleware, on_error=on_database_error)
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    if settings.federation_enabled:
        # Outside the page cache: an ActivityPub request for a page is another resource.
        app.add_middleware(ActivityNegotiationMiddleware)
    app.add_middleware(
        PageSessionMiddleware,
        secret_key=secret_key,
        session_cookie="fastblog_session",
        max_age=settings.session_max_age_days * 24 * 3600,
        same_site="lax",
        https_only=settings.https,
    )
    app.add_middleware(
        SecurityHeadersMiddleware, https=settings.https, image_sources=image_sources(settings)
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        # Multipart bodies: the larger of a profile picture's and a post picture's limits (each
        # route checks its own).
        max_upload_bytes=max(settings.max_upload_bytes, settings.max_picture_bytes),
    )
    observability = install_observability(app, settings)
    # Outside the others: a request for another site is refused before any work is done.
    app.add_middleware(AllowedHostsMiddleware, hosts=settings.hosts)
    if proxy_warning is not None:  # last added, outermost: it sees every request
        app.add_middleware(ProxySeenWarningMiddleware, warning=proxy_warning)
    # Routes are matched in the order they are added, and each route passed over costs a
    # pattern match (fastblog.routing: the routers' own routes, shared by every app). The probes
    # come first: two routes, and a liveness check must stay cheap under load (behind the
    # other 42 routes it spent more time being routed than answering). Then the routes most
    # requests take (posts, pages), files last.
    routers = [
        health.router,
        posts_api.router,
        comments_api.router,
        posts_views.router,
        media_views.router,  # /posts/pictures
        comments_views.router,  # after posts_views: the post page's /{slug} comes after /edit
        syndication.router,
        search_api.router,
        search_views.router,
        posts_api.by_user_router,
        posts_api.tags_router,
        social_api.router,
        social_api.feed_router,
        accounts_api.router,
        media_api.router,
        site_api.router,
        pages_api.router,
        social_api.profile_router,  # after accounts': /api/users/me is not a user id
        auth_api.router,
        invitation_api.router,
        accounts_views.router,
        invitation_views.router,
        social_views.router,
        follow_views.router,
        auth_views.router,
        admin_views.router,
        comments_api.moderation_router,
        comments_admin.router,
        notifications_api.router,
        notifications_views.router,
        newsletter_api.router,
        newsletter_views.router,
        newsletter_admin.router,
        root_files.router,
        observability.router,
    ]
    if settings.lab_enabled:
        from fastblog.lab import api as lab_api  # only then: see lab_lifespan

        routers.append(lab_api.router)
    if settings.federation_enabled:
        routers.insert(1, federation_routes.router)  # after the probes: /ap, /.well-known
        routers.append(federation_blocks.router)
    if settings.s3_bucket:
        routers.append(media_files.router)  # /media redirects to the bucket
    add_routes(app, (summarize_routes(router) for router in routers))
    if settings.docs_enabled:
        install_docs(app)
    static_digests()  # read once, here rather than by the first page, on the event loop
    app.mount("/static", HashedStaticFiles(directory=STATIC_DIR), name="static")
    if not settings.s3_bucket:
        app.mount(
            "/media",
            media_files.MediaFiles(directory=settings.media_dir, check_dir=False),
            name="media",
        )
    # Last of all: /{slug} would otherwise answer for /docs, /redoc and any later route. A
    # page may not take a slug a route starts with. A 405's Allow must tell this catch-all
    # from the route that owns a path (fastblog.errors.methods_of_other_routes looks for its
    # name).
    app.state.route_segments = pages_api.first_segments(app.routes)
    app.add_api_route(
        "/{slug}",
        pages_views.static_page,
        methods=["GET"],
        name=CATCH_ALL_ROUTE,
        include_in_schema=False,
        response_class=HTMLResponse,
    )
    return app


def summarize_routes(router: APIRouter) -> APIRouter:
    """Each route's docstring's first paragraph becomes its summary line in /docs."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.summary is None and route.description:
            first_paragraph = route.description.strip().split("\n\n")[0]
            route.summary = " ".join(first_paragraph.split()).rstrip(".")
    return router


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
