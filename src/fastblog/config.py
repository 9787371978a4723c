from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import AnyHttpUrl, Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./fastblog.db"


class Settings(BaseSettings):
    """Everything configurable, read from the environment (or a `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Pool sizing: one worker keeps at most pool_size + max_overflow connections.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # How long a request waits for a free connection (or a query) before it gets a 503.
    db_timeout_seconds: float = Field(default=10.0, gt=0)
    # How long SQLite waits for another writer's lock before it gives up.
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    # Read-only SQLite connections of the hot path (fastblog.direct), each with its own thread.
    sqlite_read_connections: int = Field(default=2, ge=1, le=32)
    echo_sql: bool = False

    # Accounts. With no SECRET_KEY, one is generated on first run and kept in
    # SECRET_KEY_FILE (default: beside the SQLite database) so sessions survive restarts.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    access_token_minutes: int = Field(default=60, ge=1)
    session_max_age_days: int = Field(default=14, ge=1)
    # Served over HTTPS: session cookies get Secure and responses get HSTS.
    https: bool = False
    # Password hashing is ~100 ms of CPU; at most this many run at once, in threads
    # (argon2 releases the GIL), so a burst of logins cannot starve the thread pool.
    password_hash_concurrency: int = Field(default=2, ge=1)
    # argon2id's cost: RFC 9106's second recommendation by default (64 MiB, 3 passes, 4 lanes);
    # never below OWASP's minimum (19 MiB, 2 passes). A hash keeps the cost it was made with,
    # so changing these only affects new passwords.
    argon2_memory_kib: int = Field(default=65536, ge=19456)
    argon2_time_cost: int = Field(default=3, ge=2)
    argon2_parallelism: int = Field(default=4, ge=1)

    # Login throttling (fastblog.throttle); shared by all workers through Redis when REDIS_URL
    # is set. Free failures per account from one address, per address over all accounts, and
    # per account from everywhere (the last resort: a stranger alone cannot lock the owner out).
    # Past them each failure makes the next attempt wait: LOGIN_DELAY_SECONDS, then twice as
    # long each time, up to LOGIN_MAX_DELAY_SECONDS. Counts are forgotten after
    # LOGIN_FORGET_SECONDS without a failure, and cleared by a login or a password reset.
    redis_url: str | None = None
    # Every key fastblog writes in Redis starts with this (several sites can share a server).
    redis_key_prefix: str = "fastblog:"
    login_failures_per_account_and_address: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_failures_per_account: int = Field(default=100, ge=1)
    login_delay_seconds: int = Field(default=60, ge=1)
    login_max_delay_seconds: int = Field(default=3600, ge=1)
    login_forget_seconds: int = Field(default=24 * 3600, ge=1)
    # Password-reset mails: at most this many an hour to one inbox, and requests from one address.
    reset_mails_per_inbox_per_hour: int = Field(default=3, ge=1)
    reset_requests_per_address_per_hour: int = Field(default=10, ge=1)
    # Writes per user and minute (fastblog.write_limits): posts 10, comments 10, likes 60,
    # follows 60; over that, a 429 with Retry-After. Shared through Redis like the login
    # counts. Switch off for imports, the seed and benchmarks.
    write_rate_limits: bool = True
    # GET /ready gives each dependency (database, Redis) this long to answer, all at once.
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=60)

    # Email for password resets. With no SMTP_HOST the message goes to the log.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "fastblog <no-reply@localhost>"
    # The site's public address: emailed links, canonical links, feeds, the sitemap and
    # robots.txt; by default, the address the request came to.
    public_base_url: str | None = None
    # The host names this site answers to (comma-separated; `*.example.org` for its
    # subdomains, `*` for any): a request for another Host is a 400 (fastblog.hosts).
    # Unset: localhost, 127.0.0.1 and ::1. The host of PUBLIC_BASE_URL is always allowed.
    allowed_hosts: Annotated[list[str], NoDecode] | None = None
    # The authority of Atom entry ids (tag:AUTHORITY,DATE:/posts/ID, RFC 4151): feed readers
    # know a post by its id, so when the blog moves keep the old one here and no post is
    # announced again. Unset: the host of PUBLIC_BASE_URL (else of the request).
    feed_id_authority: str | None = None
    password_reset_minutes: int = Field(default=30, ge=1)
    # The mail outbox (fastblog.outbox): mails wait in the database until one app process has
    # sent them. Each process looks for due mails this often (and at once after queueing one).
    outbox_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    # A process that claims a mail has this long to send it before another may: longer than
    # a send can take (10 s), short enough that a crashed process's mails go out soon.
    outbox_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    # A failed send is tried again after OUTBOX_RETRY_SECONDS, then twice as long each time
    # (at most an hour apart), OUTBOX_MAX_ATTEMPTS times in all.
    outbox_retry_seconds: float = Field(default=10.0, gt=0, le=3600)
    outbox_max_attempts: int = Field(default=8, ge=1, le=100)
    # How often each process looks for notification digests to mail (at most one an hour
    # per user who asked for them; fastblog.notifications.digest).
    notification_digest_poll_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How soon after its time a scheduled post is announced (mailed to subscribers): one
    # process of the cluster looks this often (fastblog.posts.visibility).
    post_schedule_poll_seconds: float = Field(default=10.0, gt=0, le=3600)
    # Newsletter mails handed to the SMTP server a minute, over the whole cluster: a post's
    # mails are queued at once, each due at its turn (fastblog.newsletter).
    newsletter_mails_per_minute: int = Field(default=600, ge=1, le=1_000_000)

    # ActivityPub (fastblog.federation): every author a fediverse actor. Unset: on when
    # PUBLIC_BASE_URL is set (actor ids must not change with the address a request came to).
    federation: bool | None = None
    # Remote fetches (actors, keys) and deliveries refuse loopback and private addresses
    # unless this is true (a test network, a fediverse on a LAN).
    federation_allow_private_addresses: bool = False
    # A delivery that keeps failing is tried again after OUTBOX_RETRY_SECONDS, twice as
    # long each time (at most an hour apart), and dropped after this many hours.
    federation_delivery_hours: float = Field(default=72.0, gt=0, le=24 * 30)
    # How often each process looks for deliveries due (retries) and activities another host
    # queued; what this process queues wakes it at once.
    federation_poll_seconds: float = Field(default=5.0, gt=0, le=3600)

    # Public pages (as a reader who is not logged in sees them) each process keeps and serves
    # again while nothing they show has changed (fastblog.web.kept_pages); 0: none kept.
    page_cache_mb: int = Field(default=32, ge=0, le=4096)

    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # A picture for a post (POST /api/media, the post form's "Add a picture").
    max_picture_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Pictures from other sites in posts: "link" shows a link to them (the pages' CSP allows
    # only this site's images), "allow" shows them (the CSP's img-src then allows https:).
    external_images: Literal["link", "allow"] = "link"
    # Worker processes for CPU-bound work (image resizing, /lab/cpu/process); 0: one per core.
    process_pool_workers: int = Field(default=0, ge=0)

    # FastAPI's built-in OpenTelemetry (spans, metrics, logs). Off by default: /metrics
    # already serves Prometheus, and the per-request checks cost ~3% of a fast route.
    opentelemetry: bool = False
    # /docs, /redoc and /openapi.json; switch off to hide the API description in production.
    docs_enabled: bool = True

    # The site's first settings: a new database takes these, and from then on the owner
    # changes them on /admin/settings (or PATCH /api/site) and the database rules
    # (fastblog.site). Changing them here later changes nothing.
    posts_per_page: int = Field(default=10, ge=1, le=100)
    # Sign-up (REGISTRATION): open to anyone, by invitation only, or closed; an account made
    # by open sign-up gets NEW_ACCOUNT_ROLE (the site's first account is always its owner).
    # Read through fastblog.accounts.signup.signup_rules only.
    registration: Literal["open", "invite", "closed"] = "open"
    new_account_role: Literal["reader", "contributor", "author", "editor"] = "reader"
    # How long an emailed invitation's link works.
    invitation_days: int = Field(default=7, ge=1, le=365)
    site_name: str = "fastblog"
    # The meta description of pages that have none of their own (forms, errors).
    site_description: str = "Posts and their authors, on an async-first blog."
    comments: Literal["open", "approve_first", "approve_all", "closed"] = "approve_first"
    # An IANA name (Europe/Paris): the time zone of the dates on pages and of "Publish at".
    timezone: str = "UTC"
    media_dir: Path = Path("media")
    # S3-compatible object storage for uploads, shared by every app host; unset: MEDIA_DIR.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # MinIO, Ceph, ...; unset: AWS
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None  # unset: the AWS SDK's usual places (env, role)
    s3_secret_access_key: SecretStr | None = None
    # How long a picture's presigned URL is valid (browsers cache the redirect a bit less).
    s3_presign_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Where the bucket's objects are public (a CDN, a public bucket): redirect there instead.
    media_url: str | None = None
    log_level: str = "INFO"
    # uvicorn's access log, one line per request. Unset: on with `--reload` (`make dev`, where
    # you watch your own requests), off otherwise. In production the reverse proxy in front
    # (nginx, Caddy, a cloud load balancer) already logs every request with more than uvicorn
    # knows (TLS, bytes, upstream time), /metrics counts requests and their latency by route,
    # and errors are logged either way; a second line per request, written on the event loop,
    # costs 15-20% of a fast route's throughput. Set ACCESS_LOG=true to serve without a proxy.
    access_log: bool | None = None
    # How long an idle keep-alive connection stays open (uvicorn's default: 5 s). Behind a
    # proxy that keeps upstream connections, make it longer than the proxy's own idle timeout:
    # otherwise the server may close a connection just as the proxy sends a request on it,
    # and that request fails (a 502 at the proxy).
    keep_alive_seconds: int = Field(default=5, ge=1, le=3600)
    # On SIGTERM, how long the server keeps serving with /ready answering 503 before it stops
    # (fastblog.shutdown): long enough for the load balancer's health check to take the host
    # out of rotation (HAProxy in deploy/: 2 failed checks 1 s apart, so 3 s). 0 (the
    # default, right without a proxy): stop at once, as uvicorn does.
    shutdown_grace_seconds: float = Field(default=0, ge=0, le=300)
    # Proxies whose X-Forwarded-For/-Proto uvicorn believes (comma-separated addresses, or *);
    # unset: uvicorn's own default, 127.0.0.1. Setting it says "this host is behind a proxy".
    forwarded_allow_ips: str | None = None

    # The async lab (fastblog.lab): off unless asked for, because two of its routes block the
    # event loop on purpose (`make dev` and `make bench-lab` switch it on).
    lab_enabled: bool = False
    # What /lab/fetch calls, with `?ms=` appended; unset: this server's own /lab/io/async.
    lab_upstream_url: AnyHttpUrl | None = None
    # Above the largest `ms` (5 s), so a slow but healthy upstream is not cut off.
    lab_upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Who may read GET /metrics: comma-separated networks; by default this machine only.
    metrics_allowed_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=lambda: [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    )
    # The event-loop monitor (fastblog.observability).
    loop_lag_interval_ms: int = Field(default=50, ge=1, le=1000)
    loop_lag_warning_ms: int = Field(default=100, ge=1)
    # Thread pools: see fastblog.threadpools for the trade-off behind these defaults.
    to_thread_workers: int = Field(default=40, ge=1, le=1000)
    sync_route_threads: int = Field(default=40, ge=1, le=1000)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def hosts(self) -> list[str]:
        """Every host name this site answers to (see allowed_hosts)."""
        hosts = list(self.allowed_hosts or ("localhost", "127.0.0.1", "::1"))
        if self.public_base_url:
            public = urlsplit(self.public_base_url).hostname
            if public:
                hosts.append(public)
        return hosts

    @field_validator("metrics_allowed_networks", mode="before")
    @classmethod
    def split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str) -> str:
        if not is_time_zone(value):
            raise ValueError(f"TIMEZONE is not a time zone name such as Europe/Paris: {value!r}")
        return value

    @property
    def federation_enabled(self) -> bool:
        return self.federation if self.federation is not None else bool(self.public_base_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    # Read from the system's tz database once: listing it walks ~600 files (0.2 s).
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """An IANA time zone name (Europe/Paris, UTC) this machine knows."""
    return name in time_zone_names()


@lru_cache
def get_settings() -> Settings:
    return Settings()
