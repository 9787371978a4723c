from functools import lru_cache
from pathlib import Path

from pydantic import Field
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

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
