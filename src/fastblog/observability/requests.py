"""Which requests are in flight, and a pure ASGI middleware that records them and their metrics."""

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fastblog.observability.metrics import Metrics

UNMATCHED_ROUTE = "<unmatched>"


@dataclass(eq=False, slots=True)
class TrackedRequest:
    label: str  # "GET /lab/io/blocking": method and path, never the query string
    started: float  # time.monotonic()
    ended: float | None = None


class RequestTracker:
    """Requests in flight, and the last few that finished.

    A request that blocks the loop usually finishes before the loop monitor gets to run again
    (nothing else can run until it yields), so the monitor asks which requests overlapped the
    blocked interval, and the recently finished ones are kept for that.
    """

    def __init__(self, history: int = 1000) -> None:
        self._in_flight: set[TrackedRequest] = set()
        self._finished: deque[TrackedRequest] = deque(maxlen=history)

    def begin(self, label: str) -> TrackedRequest:
        request = TrackedRequest(label, time.monotonic())
        self._in_flight.add(request)
        return request

    def end(self, request: TrackedRequest) -> None:
        request.ended = time.monotonic()
        self._in_flight.discard(request)
        self._finished.append(request)

    def during(self, since: float, until: float) -> list[str]:
        """Labels of the requests in flight at some moment between two monotonic times."""
        candidates: Iterable[TrackedRequest] = (*self._in_flight, *self._finished)
        return [
            request.label
            for request in sorted(candidates, key=lambda request: request.started)
            if request.started <= until and (request.ended is None or request.ended >= since)
        ]


def route_template(scope: Scope) -> str:
    """The matched route's template (`/api/posts/{post_id}`), to keep metric labels few."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestObserver:
    """Pure ASGI middleware: tracks each HTTP request and records its count and latency.

    Pure ASGI rather than BaseHTTPMiddleware, which runs the app in a separate task and
    streams the response through a memory channel: overhead on every request, for nothing.
    """

    def __init__(self, app: ASGIApp, *, tracker: RequestTracker, metrics: Metrics) -> None:
        self.app = app
        self.tracker = tracker
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # If the app raises before it answers, the server error middleware outside answers 500.
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method = scope["method"]
        tracked = self.tracker.begin(f"{method} {scope['path']}")
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            self.tracker.end(tracked)
            self.metrics.observe_request(
                method=method,
                route=route_template(scope),
                status=status,
                seconds=time.perf_counter() - started,
            )
