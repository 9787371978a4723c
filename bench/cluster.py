"""The reference deployment (deploy/) on one machine: HAProxy in front of app hosts on their own
loopback addresses, sharing PostgreSQL, Redis and an S3 bucket (moto's S3 server).

`make cluster` (python -m bench.cluster) runs it for a demo until Ctrl-C; the cluster tests and
`make bench CLUSTER=2` start it with `cluster(...)`. Each host is `fastblog serve` with the
settings of deploy/fastblog.env, its own working folder and empty MEDIA_DIR; HAProxy runs
deploy/haproxy.cfg itself, with the addresses given through its environment.
"""

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from aiobotocore.session import get_session
from sqlalchemy.engine import make_url

from bench.live import FASTBLOG, REPO_ROOT, LiveServer, free_port, ssl_context

DEPLOY = REPO_ROOT / "deploy"
HAPROXY_CONFIG = DEPLOY / "haproxy.cfg"
HOST_SETTINGS = DEPLOY / "fastblog.env"
PROXY_ADDRESS = "127.0.0.1"
HOST_ADDRESSES = ("127.0.0.2", "127.0.0.3")
SERVER_NAMES = ("host_a", "host_b")  # as in deploy/haproxy.cfg
BACKEND = "fastblog"
S3_CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}
START_TIMEOUT = 60.0
# The settings of deploy/fastblog.env that are about running behind the proxy, applied as
# written; the others (addresses, secrets) are this machine's.
DEPLOYED_SETTINGS = ("SHUTDOWN_GRACE_SECONDS", "KEEP_ALIVE_SECONDS")


@dataclass(frozen=True)
class Shared:
    """What every host shares: the database, Redis (under its own key prefix) and the bucket."""

    database_url: str
    redis_url: str
    redis_key_prefix: str
    s3_endpoint_url: str
    s3_bucket: str
    secret_key: str


def deployed_settings() -> dict[str, str]:
    """NAME=value lines of deploy/fastblog.env, for the names in DEPLOYED_SETTINGS."""
    settings = {}
    for line in HOST_SETTINGS.read_text().splitlines():
        name, _, value = line.partition("=")
        if name in DEPLOYED_SETTINGS:
            settings[name] = value
    return settings


def host_env(shared: Shared, workdir: Path, **extra: str) -> dict[str, str]:
    """One host's whole environment: nothing of the caller's but PATH and HOME."""
    env = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    env.update(
        DATABASE_URL=shared.database_url,
        REDIS_URL=shared.redis_url,
        REDIS_KEY_PREFIX=shared.redis_key_prefix,
        S3_BUCKET=shared.s3_bucket,
        S3_ENDPOINT_URL=shared.s3_endpoint_url,
        **S3_CREDENTIALS,
        SECRET_KEY=shared.secret_key,
        MEDIA_DIR=str(workdir / "media"),
        FORWARDED_ALLOW_IPS=PROXY_ADDRESS,
        LOG_LEVEL="WARNING",
        **deployed_settings(),
    )
    env.update(extra)
    return env


@dataclass
class Proxy:
    """HAProxy running deploy/haproxy.cfg, and its stats socket."""

    url: str
    stats_socket: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def command(self, line: str) -> str:
        """One command on the stats socket (HAProxy's management interface)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(self.stats_socket))
            connection.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """`show stat` of the app hosts, by server name: status (UP, DOWN, MAINT, ...), stot
        (requests sent to it so far), check_status, ..."""
        header, *rows = self.command("show stat").strip().splitlines()
        names = header.lstrip("# ").split(",")
        stats = [dict(zip(names, row.split(","), strict=False)) for row in rows]
        return {
            row["svname"]: row
            for row in stats
            if row["pxname"] == BACKEND and row["svname"] not in {"FRONTEND", "BACKEND"}
        }

    def status(self, server: str) -> str:
        return self.servers()[server]["status"]

    def wait_status(self, server: str, wanted: str, timeout: float = START_TIMEOUT) -> float:
        """Seconds until HAProxy sees `server` as `wanted` (e.g. UP, DOWN)."""
        start = time.monotonic()
        while (status := self.status(server)) != wanted:
            if time.monotonic() - start > timeout:
                raise RuntimeError(f"{server} still {status} after {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)
        return time.monotonic() - start

    def set_enabled(self, server: str, enabled: bool) -> None:
        self.command(f"{'enable' if enabled else 'disable'} server {BACKEND}/{server}")

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def haproxy_path() -> str | None:
    """Debian installs it in /usr/sbin, which is not on every user's PATH."""
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return found if Path(found).exists() else None


@contextlib.contextmanager
def haproxy(bind: str, hosts: Mapping[str, str], workdir: Path) -> Iterator[Proxy]:
    """deploy/haproxy.cfg in the foreground, logging to a file; stopped on the way out."""
    haproxy_bin = haproxy_path()
    if haproxy_bin is None:
        raise SystemExit("HAProxy is not installed: apt-get install haproxy")
    stats_socket = workdir / "haproxy.sock"
    env = {
        **os.environ,
        "FASTBLOG_DEMO": "1",
        "FASTBLOG_BIND": bind,
        "FASTBLOG_STATS": str(stats_socket),
        **{f"FASTBLOG_{name.upper()}": address for name, address in hosts.items()},
    }
    log_path = workdir / "haproxy.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [haproxy_bin, "-db", "-f", str(HAPROXY_CONFIG)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proxy = Proxy(f"http://{bind}", stats_socket, log_path, process)
    try:
        deadline = time.monotonic() + 10
        while not stats_socket.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy did not start:\n{proxy.log_tail()}")
            time.sleep(0.05)
        yield proxy
    finally:
        process.send_signal(signal.SIGUSR1)  # soft stop: finishes what is in flight
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextlib.contextmanager
def moto_s3(workdir: Path) -> Iterator[str]:
    """moto's S3 server (from PyPI) on a free loopback port; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "moto.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                # One SSL context for every poll: a client's own costs ~45 ms of CPU, and
                # beside busy cores moto takes seconds to start (ten polls a second).
                httpx.get(f"{url}/moto-api/", timeout=1, trust_env=False, verify=ssl_context())
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto did not start:\n{log_path.read_text()}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.kill()
        process.wait(10)


async def create_bucket(endpoint_url: str, name: str) -> None:
    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=S3_CREDENTIALS["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["S3_SECRET_ACCESS_KEY"],
    ) as client:
        await client.create_bucket(Bucket=name)


async def create_database_if_missing(database_url: str) -> None:
    """The PostgreSQL database `database_url` names, created unless it exists."""
    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False), timeout=10)
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", url.database
        )
        if not exists:
            await connection.execute(f'CREATE DATABASE "{url.database}"')
    finally:
        await connection.close()


def upgrade_at_once(hosts: Iterable[LiveServer]) -> None:
    """`fastblog db upgrade` on each host at the same moment, as their systemd units do
    (ExecStartPre) when the hosts boot together."""
    upgrades = [
        (
            host,
            subprocess.Popen(
                [FASTBLOG, "db", "upgrade"],
                cwd=host.cwd,
                env=host.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            ),
        )
        for host in hosts
    ]
    for host, process in upgrades:
        output, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            raise RuntimeError(f"fastblog db upgrade failed on {host.url}:\n{output.decode()}")


@dataclass
class Cluster:
    proxy: Proxy
    hosts: dict[str, LiveServer]  # by HAProxy server name
    shared: Shared
    workdir: Path

    @property
    def url(self) -> str:
        return self.proxy.url

    def start_host(self, name: str) -> None:
        """(Re)start a host's process and wait until HAProxy sends it traffic again."""
        self.start_hosts([name])

    def start_hosts(self, names: Iterable[str]) -> None:
        """Start these hosts (stopped) together, as their machines boot: each upgrades the
        database, then serves; back once HAProxy sends each traffic again."""
        hosts = {name: self.hosts[name] for name in names}
        upgrade_at_once(hosts.values())
        for host in hosts.values():
            host.start()
        for name, host in hosts.items():
            host.wait_ready()
            self.proxy.wait_status(name, "UP")

    def settle(self, **settings: str) -> None:
        """Every host serving with these settings: the ones that are down, or were started
        with other values, are (re)started, together; the others are left as they are."""
        stale = [
            name
            for name, host in self.hosts.items()
            if not host.is_running() or any(host.env.get(k) != v for k, v in settings.items())
        ]
        stop_all(self.hosts[name] for name in stale)
        for name in stale:
            self.hosts[name].env.update(settings)
        self.start_hosts(stale)


def stop_all(hosts: Iterable[LiveServer]) -> None:
    """SIGTERM to every host at once, then wait for each: their shutdown grace runs side by
    side instead of one after another."""
    hosts = list(hosts)
    for host in hosts:
        host.terminate()
    for host in hosts:
        host.stop()


def app_hosts(
    shared: Shared, workdir: Path, *, count: int, port: int | None, **extra: str
) -> dict[str, LiveServer]:
    hosts = {}
    for name, address in list(zip(SERVER_NAMES, HOST_ADDRESSES, strict=True))[:count]:
        folder = workdir / name
        folder.mkdir(parents=True, exist_ok=True)
        hosts[name] = LiveServer(
            host_env(shared, folder, **extra),
            log_path=folder / "server.log",
            cwd=folder,  # no .env here, and its own fastblog.secret if ever needed
            host=address,
            port=port or free_port(address),
        )
    return hosts


@contextlib.contextmanager
def cluster(
    shared: Shared,
    workdir: Path,
    *,
    hosts: int = 2,
    bind: str | None = None,
    host_port: int | None = None,
    **host_settings: str,
) -> Iterator[Cluster]:
    """HAProxy and `hosts` app hosts (1 or 2) on `shared`, stopped on the way out. Each host
    starts as its systemd unit does: `fastblog db upgrade`, all at once, then `fastblog serve`.
    Ready once HAProxy sees every host UP; a host not started is disabled in HAProxy."""
    servers = app_hosts(shared, workdir, count=hosts, port=host_port, **host_settings)
    # HAProxy's configuration names both servers; one not started gets a port where nothing
    # listens (9, "discard") and is disabled below.
    addresses = {
        name: f"{HOST_ADDRESSES[i]}:{host_port or 9}" for i, name in enumerate(SERVER_NAMES)
    }
    addresses.update({name: f"{server.host}:{server.port}" for name, server in servers.items()})
    bind = bind or f"{PROXY_ADDRESS}:{free_port(PROXY_ADDRESS)}"
    with contextlib.ExitStack() as stack:
        proxy = stack.enter_context(haproxy(bind, addresses, workdir))
        for name in SERVER_NAMES:
            if name not in servers:
                proxy.set_enabled(name, False)
        running = Cluster(proxy, servers, shared, workdir)
        stack.callback(stop_all, servers.values())
        running.start_hosts(servers)
        yield running


@contextlib.contextmanager
def shared_services(
    database_url: str,
    redis_url: str,
    workdir: Path,
    *,
    secret_key: str | None = None,
    redis_key_prefix: str | None = None,
) -> Iterator[Shared]:
    """moto's S3 with a fresh bucket; the database and Redis as given (under a key prefix of
    this cluster's own unless one is given)."""
    with moto_s3(workdir) as s3_url:
        bucket = f"fastblog-{uuid.uuid4().hex[:12]}"
        asyncio.run(create_bucket(s3_url, bucket))
        yield Shared(
            database_url=database_url,
            redis_url=redis_url,
            redis_key_prefix=redis_key_prefix or f"fastblog-cluster-{uuid.uuid4().hex[:8]}:",
            s3_endpoint_url=s3_url,
            s3_bucket=bucket,
            secret_key=secret_key or uuid.uuid4().hex + uuid.uuid4().hex,
        )


DEMO_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/fastblog_cluster"
DEMO_REDIS_URL = "redis://127.0.0.1:6379/0"


def main() -> None:
    """`make cluster`: the demo, until Ctrl-C."""
    database_url = os.environ.get("CLUSTER_DATABASE_URL", DEMO_DATABASE_URL)
    redis_url = os.environ.get("CLUSTER_REDIS_URL", DEMO_REDIS_URL)
    asyncio.run(create_database_if_missing(database_url))
    workdir = Path(tempfile.mkdtemp(prefix="fastblog-cluster-"))
    try:
        with (
            shared_services(
                database_url, redis_url, workdir, redis_key_prefix="fastblog-cluster:"
            ) as shared,
            cluster(shared, workdir, bind=f"{PROXY_ADDRESS}:8080", host_port=8000) as running,
        ):
            print(f"fastblog through HAProxy: {running.url}/  (Ctrl-C stops everything)")
            for name, host in running.hosts.items():
                print(f"  {name}: {host.url}  log {host.log_path}")
            print(f"  database {database_url}\n  redis {redis_url} ({shared.redis_key_prefix}*)")
            print(f"  bucket {shared.s3_bucket} at {shared.s3_endpoint_url}")
            print(f"  HAProxy log {running.proxy.log_path}; stats: {running.proxy.stats_socket}")
            while running.proxy.process.poll() is None:
                time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping the hosts, HAProxy and the object store.")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
