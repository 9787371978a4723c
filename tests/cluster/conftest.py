"""The reference deployment on this machine (bench.cluster): HAProxy on a free loopback port in
front of two app hosts on 127.0.0.2 and 127.0.0.3, sharing a throwaway PostgreSQL database,
Redis (db 13, a key prefix of their own) and moto's S3 server.

One cluster for the whole run (starting it takes seconds of both cores); a test that stops a
host may leave it stopped: the next test's fixture starts what that test needs. Skipped
without HAProxy, PostgreSQL or Redis, except in CI.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bench.cluster import Cluster, Shared, cluster, haproxy_path, shared_services
from tests.conftest import IN_CI, REDIS_URL, throwaway_postgres_database
from tests.factories import CHEAP_ARGON2


def require(condition: bool, message: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(message + " (CI requires it)", pytrace=False)
    pytest.skip(message)


def redis_reachable() -> bool:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as connection:
            connection.ping()
    except redis.RedisError:
        return False
    return True


# Module-scoped: the cluster (two hosts, HAProxy, moto) is stopped after the module's last test
# instead of idling until its worker's last test.
@pytest.fixture(scope="module")
def cluster_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Shared, Path]]:
    """What every host shares: an EMPTY PostgreSQL database, Redis and moto's S3; and a folder."""
    require(haproxy_path() is not None, "HAProxy is not installed (apt-get install haproxy)")
    require(redis_reachable(), f"Redis unreachable at {REDIS_URL}")
    workdir = tmp_path_factory.mktemp("cluster")
    with (
        throwaway_postgres_database() as database_url,
        shared_services(database_url, REDIS_URL, workdir) as shared,
    ):
        yield shared, workdir


# The hosts' settings in the open cluster, and what the limited one changes. NEW_ACCOUNT_ROLE:
# the load's accounts sign up through the API and write posts. Passwords hash at the tests'
# cost (tests/factories.py), as every app and server of the suite does.
OPEN = {
    "PROCESS_POOL_WORKERS": "1",
    "NEW_ACCOUNT_ROLE": "author",
    "WRITE_RATE_LIMITS": "false",
    **{name.upper(): str(value) for name, value in CHEAP_ARGON2.items()},
}
LIMITED = {"WRITE_RATE_LIMITS": "true"}  # as deploy/fastblog.env leaves them


@pytest.fixture(scope="module")
def started_cluster(cluster_services: tuple[Shared, Path]) -> Iterator[Cluster]:
    """Proxy and two hosts, started at the same moment on the empty database: each host runs
    `fastblog db upgrade` as it starts, as its systemd unit does."""
    shared, workdir = cluster_services
    with cluster(shared, workdir, **OPEN) as running:
        yield running


@pytest.fixture
def running_cluster(started_cluster: Cluster) -> Cluster:
    """The cluster with both hosts up and the write rate limits off: the load tests' 32
    clients write as four accounts, far past 10 posts a minute each. A host that a test
    before stopped, or started with other settings, is started again first (only then: a
    restart costs seconds of both cores)."""
    started_cluster.settle(**OPEN)
    return started_cluster


@pytest.fixture
def limited_cluster(started_cluster: Cluster) -> Cluster:
    """The same hosts with the write rate limits on, as deployed: restarted with it (only the
    first time a test asks: it stays so until a test wants the open cluster)."""
    started_cluster.settle(**LIMITED)
    return started_cluster
