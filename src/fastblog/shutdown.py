"""Draining on SIGTERM, so a load balancer stops choosing a host before it stops answering.

uvicorn, on SIGTERM, closes its listening socket and its idle keep-alive connections at once,
then waits for the requests in flight (up to `timeout_graceful_shutdown`). Behind a proxy that
is a race: the proxy still believes the host is up, and a request it sends on a connection the
host is closing fails. So a served process (fastblog.cli) takes SIGTERM first: `/ready`
answers 503 from that moment, the host keeps serving for SHUTDOWN_GRACE_SECONDS while the
proxy's health check notices, and only then is uvicorn's own handler called.
"""

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

logger = logging.getLogger(__name__)

SignalHandler = Callable[[int, FrameType | None], object]


@dataclass(slots=True)
class Shutdown:
    """Whether this process has been asked to stop (`/ready` then answers 503)."""

    draining: bool = False


@contextmanager
def drain_on_sigterm(shutdown: Shutdown, grace_seconds: float) -> Iterator[None]:
    """While inside: SIGTERM marks `shutdown` as draining and hands the signal on to the handler
    that was there before (uvicorn's) `grace_seconds` later; a second SIGTERM hands it on at once.

    Signals are the main thread's only; elsewhere, or with no handler to hand on to (not
    served by uvicorn), nothing changes.
    """
    stop_serving = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or not callable(stop_serving):
        yield
        return
    loop = asyncio.get_running_loop()

    def begin_draining(signum: int, frame: FrameType | None) -> None:
        if shutdown.draining or grace_seconds <= 0:
            shutdown.draining = True
            stop_serving(signum, frame)
            return
        shutdown.draining = True
        # A signal handler runs between two bytecodes of the loop's own thread (which may hold
        # the loop's or logging's state half-changed): the rest runs on the loop, woken
        # through its self-pipe.
        loop.call_soon_threadsafe(stop_later, signum, frame)

    def stop_later(signum: int, frame: FrameType | None) -> None:
        # A warning: seen with fastblog's default logging, like uvicorn's own "Shutting down".
        logger.warning(
            "SIGTERM: /ready answers 503 from now on; the server stops in %g s "
            "(SHUTDOWN_GRACE_SECONDS), finishing the requests in flight",
            grace_seconds,
        )
        loop.call_later(grace_seconds, stop_serving, signum, frame)

    signal.signal(signal.SIGTERM, begin_draining)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is begin_draining:
            signal.signal(signal.SIGTERM, stop_serving)
