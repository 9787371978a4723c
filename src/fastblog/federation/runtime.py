"""The federation's running parts, made by the lifespan when FEDERATION is on."""

from concurrent.futures import Executor
from functools import partial
from typing import Any

from fastblog.accounts.deletion import AccountDeletion
from fastblog.config import Settings
from fastblog.db import Database
from fastblog.federation import announce, documents, leaving, queries
from fastblog.federation.delivery import DeliverySender
from fastblog.federation.fetch import Remote
from fastblog.federation.handlers import Handlers
from fastblog.federation.inbox import InboxWorker
from fastblog.posts.visibility import PostVisibility
from fastblog.site.store import SiteSettingsStore

DEFAULT_BASE = "http://localhost:8000"


def base_url(settings: Settings) -> str:
    """The address actor and post ids are made from: PUBLIC_BASE_URL (ids must not change
    with the address a request came to)."""
    return (settings.public_base_url or DEFAULT_BASE).rstrip("/")


class Federation:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        pool: Executor,
        site: SiteSettingsStore,
        visibility: PostVisibility,
        account_deletion: AccountDeletion,
    ) -> None:
        self.settings = settings
        self.database = database
        self.pool = pool
        self.base = base_url(settings)
        self.remote = Remote(settings)
        self.sender = DeliverySender(
            database,
            self.remote,
            settings,
            key_id_of=partial(documents.key_id, self.base),
            pool=pool,
        )
        self.handlers = Handlers(
            base=self.base,
            database=database,
            remote=self.remote,
            pool=pool,
            site=site,
            wake_delivery=self.sender.wake,
        )
        self.inbox = InboxWorker(
            database,
            self.handlers,
            poll_seconds=settings.federation_poll_seconds,
            lease=settings.outbox_lease_seconds,
        )
        announce.install(visibility, announce.Announcer(self.base, self.sender.wake))
        leaving.install(account_deletion, leaving.Leaving(self.base, self.sender.wake))

    async def author_fediverse(self, user_id: int) -> dict[str, Any] | None:
        """What the author page shows: the handle to follow, and how many do from afar
        (None for a remote author's stand-in account)."""
        author = await queries.local_author(self.database, user_id=user_id)
        if author is None:
            return None
        return {
            "handle": f"@{author.username}@{documents.host_of(self.base)}",
            "followers": await queries.count_followers(self.database, user_id),
        }

    def start(self) -> None:
        self.sender.start()
        self.inbox.start()

    async def stop(self) -> None:
        await self.inbox.stop()
        await self.sender.stop()
        await self.remote.aclose()
