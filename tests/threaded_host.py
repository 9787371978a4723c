"""A host of the blog inside the test process: the app (tests.apps.create_app), on the settings
a `fastblog serve` would read from its environment, served by uvicorn on a thread of its own
at the address given.

For the tests whose first host is killed (SIGKILL: that one is a real process) and whose next
host only has to take over what it left in the database: the same app, lifespan and background
loops, started without a second interpreter importing the app (~3 CPU-s and, beside two busy
cores, 10 s of waiting). What a host does apart from the app (`fastblog serve`'s own settings
and signals) has tests of its own (tests/test_serve.py, tests/test_shutdown.py).
"""

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import uvicorn

from bench.live import START_TIMEOUT, STOP_TIMEOUT, LiveServer
from tests.apps import create_app
from tests.conftest import ExplicitSettings


class ThreadedHost(LiveServer):
    """A LiveServer whose server is a thread of this process. Its log (log(), log_tail()) is
    what this process logs at WARNING and above while it runs: the app's errors, tracebacks
    included, and uvicorn's."""

    def __init__(self, env: Mapping[str, str], **options: Any) -> None:
        super().__init__(env, **options)  # LiveServer's: log_path, port, host
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._handler: logging.Handler | None = None

    def start(self) -> None:
        settings = ExplicitSettings(**{name.lower(): value for name, value in self.env.items()})
        config = uvicorn.Config(
            create_app(settings),
            host=self.host,
            port=self.port,
            log_config=None,  # the records reach the root logger, hence the log file
            access_log=False,
            ws="none",
        )
        self._handler = logging.FileHandler(self.log_path)
        self._handler.setLevel(logging.WARNING)
        self._handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(self._handler)
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(target=server.run, name=f"host-{self.port}", daemon=True)
        self._thread.start()

    def wait_ready(self) -> None:
        assert self._server is not None, "start() first"
        assert self._thread is not None
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:  # bound, and the lifespan's start-up done
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the host on {self.url} did not start:\n{self.log_tail()}")
            time.sleep(0.02)

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        """As SIGTERM stops `fastblog serve`: the requests in flight and the lifespan finish."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(STOP_TIMEOUT)
            assert not self._thread.is_alive(), f"the host on {self.url} did not stop"
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler.close()
        self._server = self._thread = self._handler = None
