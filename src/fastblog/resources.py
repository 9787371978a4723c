"""What the app opens at start-up and closes at shutdown, as one typed object.

The lifespan (fastblog.main) yields `{"resources": Resources(...)}` as Starlette's lifespan
state; every request sees it as `request.state.resources`, and `ResourcesDep`
(fastblog.dependencies) hands it to routes. Nothing here is created at import time.
"""

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastblog.config import Settings
from fastblog.db import Database
from fastblog.mail import Mailer
from fastblog.media.store import MediaStore
from fastblog.outbox import OutboxSender
from fastblog.passwords import PasswordHasher
from fastblog.shutdown import Shutdown
from fastblog.site.store import SiteSettingsStore
from fastblog.throttle import LoginThrottle, MailThrottle
from fastblog.write_limits import WriteLimiter

if TYPE_CHECKING:  # made in fastblog.main, and imported there, only with REDIS_URL
    from redis.asyncio import Redis


@dataclass(slots=True)
class Resources:
    settings: Settings
    secret_key: str
    database: Database
    password_hasher: PasswordHasher
    login_throttle: LoginThrottle
    mail_throttle: MailThrottle
    # Posts, comments, likes and follows a minute, per user (WRITE_RATE_LIMITS).
    write_limiter: WriteLimiter
    mailer: Mailer
    # Sends the mails the outbox holds (a password reset's, ...); started by the lifespan.
    outbox: OutboxSender
    # The site's settings (title, navigation, time zone, ...), kept fresh in memory.
    site: SiteSettingsStore
    # Uploaded pictures: MEDIA_DIR, or the bucket every host shares (S3_BUCKET).
    media: MediaStore
    # With REDIS_URL: the client every worker and host shares state through.
    redis: "Redis | None"
    # CPU-bound work (picture resizing) runs here, never on the event loop.
    process_pool: ProcessPoolExecutor
    # Set on SIGTERM in a served process (fastblog.shutdown): /ready then answers 503.
    shutdown: Shutdown = field(default_factory=Shutdown)
