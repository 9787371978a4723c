from functools import lru_cache
from pathlib import Path

from pydantic import AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    echo_sql: bool = False

    posts_per_page: int = Field(default=10, ge=1, le=100)
    site_name: str = "fastblog"
    media_dir: Path = Path("media")
    log_level: str = "INFO"

    # The async lab (fastblog.lab) and the event-loop monitor (fastblog.observability).
    lab_enabled: bool = True
    # What /lab/fetch calls, with `?ms=` appended; unset: this server's own /lab/io/async.
    lab_upstream_url: AnyHttpUrl | None = None
    # Above the largest `ms` (5 s), so a slow but healthy upstream is not cut off.
    lab_upstream_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Worker processes for /lab/cpu/process; unset: one per core.
    lab_process_workers: int | None = Field(default=None, ge=1, le=64)
    loop_lag_interval_ms: int = Field(default=50, ge=1, le=1000)
    loop_lag_warning_ms: int = Field(default=100, ge=1)
    # Thread pools: see fastblog.threadpools for the trade-off behind these defaults.
    to_thread_workers: int = Field(default=40, ge=1, le=1000)
    sync_route_threads: int = Field(default=40, ge=1, le=1000)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
