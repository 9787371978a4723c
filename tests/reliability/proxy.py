"""A TCP proxy between the app and PostgreSQL that a test can cut and mend.

The honest way to take a database away from a running app without touching the server that
other tests share: the app connects to the proxy, and the proxy can refuse connections (the
database is down), swallow them (a network that drops packets: nothing answers), or forward
them again (the database is back). It runs on the test's own event loop.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from enum import Enum


class Mode(Enum):
    FORWARD = "forward"
    REFUSE = "refuse"  # nothing listens: connection refused at once
    BLACKHOLE = "blackhole"  # connections accepted, nothing ever answered


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.mode = Mode.FORWARD
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self.accepted = asyncio.Event()  # set at each connection the proxy accepts

    async def listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        self.accepted.set()
        try:
            if self.mode is Mode.BLACKHOLE:
                await reader.read()  # hold the connection open, answer nothing
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            self._connections.add(upstream_writer)
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.mode is Mode.BLACKHOLE:
                    await reader.read()  # what was in flight is lost
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _cut_connections(self) -> None:
        for writer in self._connections:
            writer.transport.abort()
        self._connections.clear()

    async def refuse(self) -> None:
        """The database goes down: open connections break, new ones are refused."""
        self.mode = Mode.REFUSE
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self._cut_connections()
        if server is not None:
            await server.wait_closed()

    async def blackhole(self) -> None:
        """The database stops answering: open connections and new ones hang."""
        self.mode = Mode.BLACKHOLE
        if self._server is None:
            await self.listen()

    async def forward(self) -> None:
        """The database is back: new connections go through (hung ones are cut)."""
        if self.mode is Mode.BLACKHOLE:
            self._cut_connections()
        self.mode = Mode.FORWARD
        if self._server is None:
            await self.listen()

    async def close(self) -> None:
        await self.refuse()


@contextlib.asynccontextmanager
async def tcp_proxy(target_host: str, target_port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_host, target_port)
    await proxy.listen()
    try:
        yield proxy
    finally:
        await proxy.close()
