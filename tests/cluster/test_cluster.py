"""The reference deployment, through HAProxy, with two app hosts: what a reader notices when the
proxy sends each request to either host, and when a host is restarted or dies under load; and
the write rate limits as deployed, last (the hosts are restarted with them on)."""

import asyncio
import re
import signal
import time
import uuid
from collections.abc import AsyncIterator
from io import BytesIO

import httpx
import pytest
from alembic.script import ScriptDirectory
from PIL import Image
from sqlalchemy import pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.cluster import SERVER_NAMES, Cluster
from bench.live import ssl_context
from fastblog.cli import alembic_config
from fastblog.write_limits import PER_MINUTE, POSTS
from tests.accounts import image_bytes
from tests.cluster.conftest import OPEN
from tests.cluster.load import CLIENTS, Watch, run_load, stored_ids
from tests.html import read_page

pytestmark = [pytest.mark.anyio, pytest.mark.cluster, pytest.mark.postgres]

HOST_HEADER = "x-fastblog-host"  # the host that answered (deploy/haproxy.cfg, demo only)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "a long enough password for the cluster"
# deploy/haproxy.cfg: checks 1 s apart, a host is out after 2 failures (2 s), plus the check's
# own timeout if the host hangs; a little margin for two busy cores.
OUT_OF_ROTATION_SECONDS = 3.5
# HAProxy keeps idle connections to each host. Just after a host dies, before HAProxy has read
# that those connections closed, it can send a request on one (seen once: a POST 46 µs after the
# kill); the host never read it, and HAProxy closes the client's connection without an answer,
# as a host closing an idle connection would, so that the client may send it again.
DEAD_CONNECTION_SECONDS = 0.5


@pytest.fixture
async def proxy(running_cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    """A browser talking to the proxy: its own cookie jar, no redirects followed."""
    async with httpx.AsyncClient(
        base_url=running_cluster.url, trust_env=False, timeout=30, verify=ssl_context()
    ) as c:
        yield c


def answered_by(response: httpx.Response) -> str:
    return response.headers[HOST_HEADER]


async def sign_up(client: httpx.AsyncClient, name: str) -> dict[str, str]:
    """An account through the API; the bearer header of its token."""
    email = f"{name}@example.com"
    created = await client.post(
        "/api/users", json={"username": name, "email": email, "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    token = await client.post("/api/users/token", data={"username": email, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def test_two_hosts_started_together_on_an_empty_database_share_one_schema(
    running_cluster: Cluster,
) -> None:
    """Both ran `fastblog db upgrade` at the same moment on an empty database, then served."""
    assert {name: running_cluster.proxy.status(name) for name in SERVER_NAMES} == {
        "host_a": "UP",
        "host_b": "UP",
    }
    engine = create_async_engine(running_cluster.shared.database_url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            versions = [row.version_num for row in rows]
    finally:
        await engine.dispose()
    assert versions == [ScriptDirectory.from_config(alembic_config()).get_current_head()]


async def test_requests_go_round_robin_to_both_hosts(proxy: httpx.AsyncClient) -> None:
    hosts = [answered_by(await proxy.get("/health")) for _ in range(4)]

    assert set(hosts) == set(SERVER_NAMES)
    assert hosts[0] != hosts[1]
    assert hosts[1] != hosts[2]


async def get_from_other_host(client: httpx.AsyncClient, path: str, than: str) -> httpx.Response:
    """GET `path` until the host that answers is not `than` (round-robin: the next one)."""
    for _ in range(3):
        response = await client.get(path)
        if answered_by(response) != than:
            return response
    raise AssertionError(f"{path} was always answered by {than}")


async def test_a_picture_uploaded_through_one_host_is_seen_through_the_other(
    proxy: httpx.AsyncClient, running_cluster: Cluster
) -> None:
    headers = await sign_up(proxy, unique("ada"))

    uploaded = await proxy.patch(
        "/api/users/me/picture",
        files={"file": ("me.png", image_bytes("PNG", (640, 480)), "image/png")},
        headers=headers,
    )
    assert uploaded.status_code == 200, uploaded.text
    image_path = uploaded.json()["image_path"]

    redirect = await get_from_other_host(proxy, image_path, than=answered_by(uploaded))
    assert redirect.status_code == 307
    location = redirect.headers["location"]
    assert location.startswith(f"{running_cluster.shared.s3_endpoint_url}/")
    picture = await proxy.get(location)
    assert picture.status_code == 200
    with Image.open(BytesIO(picture.content)) as image:
        assert image.size == (256, 256)
    for host in running_cluster.hosts.values():  # neither host kept a file of its own
        assert not any(path.is_file() for path in (host.cwd / "media").rglob("*"))


async def csrf_token(client: httpx.AsyncClient, path: str) -> tuple[str, str]:
    """The CSRF token of the form on `path`, and the host that served the page."""
    page = await client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF_FIELD.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1), answered_by(page)


async def post_form_on_other_host(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, str], **kwargs: object
) -> httpx.Response:
    """Post the form of `page` as a browser does, on the host that did not serve the page."""
    token, page_host = await csrf_token(client, page)
    response = await client.post(action, data={**data, "csrf_token": token}, **kwargs)  # type: ignore[arg-type]
    if answered_by(response) == page_host:
        raise AssertionError(f"{action} was answered by {page_host}, like its form")
    return response


async def test_a_browser_session_and_its_csrf_token_work_on_either_host(
    proxy: httpx.AsyncClient,
) -> None:
    name = unique("grace")
    # Each form is posted to the other host than the one that served it (round-robin).
    registered = await post_form_on_other_host(
        proxy,
        "/register",
        "/register",
        {"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 303, registered.text

    for _ in range(2):  # the session cookie is honoured by both hosts
        account = await proxy.get("/account")
        assert account.status_code == 200
        assert name in read_page(account).text

    uploaded = await post_form_on_other_host(
        proxy,
        "/account",
        "/account/picture",
        {},
        files={"picture": ("me.png", image_bytes("PNG"), "image/png")},
    )
    assert uploaded.status_code == 303
    assert uploaded.headers["location"] == "/account"
    page = read_page(await proxy.get("/account"))
    assert "Your picture is updated." in page.text
    [picture] = {src for src in page.images if src.startswith("/media/")}
    assert (await proxy.get(picture)).status_code == 307  # to the bucket, from either host

    logged_out = await post_form_on_other_host(proxy, "/account", "/logout", {})
    assert logged_out.status_code == 303
    assert (await proxy.get("/account")).headers["location"] == "/login?next=/account"


async def test_login_failures_are_counted_across_both_hosts_per_client_address(
    proxy: httpx.AsyncClient, running_cluster: Cluster
) -> None:
    """Five failures for one account from one address are allowed (LOGIN_FAILURES_PER_ACCOUNT_
    AND_ADDRESS), wherever they land; the sixth attempt waits. Another address is not held up:
    the hosts count the client's address (X-Forwarded-For), not the proxy's."""
    name = unique("mallory")
    await sign_up(proxy, name)
    wrong = {"username": f"{name}@example.com", "password": "not the password"}

    async with client_from(running_cluster, "127.0.0.4") as attacker:
        hosts = set()
        for _ in range(5):
            failed = await attacker.post("/api/users/token", data=wrong)
            assert failed.status_code == 401, failed.text
            hosts.add(answered_by(failed))
        assert hosts == set(SERVER_NAMES)
        for _ in range(2):  # held up on both hosts, even with the right password
            held = await attacker.post("/api/users/token", data={**wrong, "password": PASSWORD})
            assert held.status_code == 429, held.text
            assert int(held.headers["retry-after"]) > 0

    async with client_from(running_cluster, "127.0.0.5") as owner:
        allowed = await owner.post("/api/users/token", data={**wrong, "password": PASSWORD})
        assert allowed.status_code == 200, allowed.text


def client_from(cluster: Cluster, address: str) -> httpx.AsyncClient:
    """A client whose connections come from `address` (another loopback address)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=cluster.url, transport=transport, timeout=30, trust_env=False)


@pytest.fixture(scope="module")
async def writers(started_cluster: Cluster) -> list[str]:
    """Bearer tokens of four accounts (the load's 32 clients share them)."""
    started_cluster.settle(**OPEN)
    async with httpx.AsyncClient(base_url=started_cluster.url, trust_env=False, timeout=60) as c:
        headers = [await sign_up(c, unique("writer")) for _ in range(4)]
    return [header["Authorization"].removeprefix("Bearer ") for header in headers]


async def assert_every_acknowledged_write_is_stored(
    cluster: Cluster, acknowledged: list[int]
) -> None:
    assert acknowledged, "no write was acknowledged"
    stored = await stored_ids(cluster.shared.database_url, acknowledged)
    assert set(acknowledged) - stored == set(), "acknowledged writes were lost"


async def test_a_rolling_restart_under_load_fails_no_request_and_loses_no_write(
    running_cluster: Cluster, writers: list[str]
) -> None:
    """Each host in turn gets SIGTERM (/ready turns 503 and it serves SHUTDOWN_GRACE_SECONDS
    more) and is started again, while 32 clients read and write through the proxy until both
    are back (the load runs as long as the restarts take: about 20 s)."""
    exited_at: dict[str, float] = {}

    async def restart_each_host() -> None:
        for name in SERVER_NAMES:
            await asyncio.sleep(1)  # both hosts under load, and HAProxy sampled meanwhile
            host = running_cluster.hosts[name]
            host.terminate()
            # uvicorn finishes, then raises the signal again: the exit status says SIGTERM.
            assert await asyncio.to_thread(host.wait) == -signal.SIGTERM, host.log_tail()
            exited_at[name] = time.monotonic()
            await asyncio.to_thread(running_cluster.start_host, name)
            # The load goes on until HAProxy has sent the host requests again: stopping as
            # soon as it was UP left the last one none, now and then, on a loaded machine.
            async with asyncio.timeout(20):
                await watch.until_sent_to(name, since=exited_at[name])

    async with Watch(running_cluster) as watch:
        load = await run_load(running_cluster, writers, seconds=5, during=restart_each_host)

    assert load.failures == [], load.failures[:5]
    assert load.requests > CLIENTS * 10
    await assert_every_acknowledged_write_is_stored(
        running_cluster, list(load.acknowledged.values())
    )
    for name in SERVER_NAMES:
        # Out of rotation before it stopped answering, and sent nothing while out.
        assert watch.last_before(exited_at[name]).status[name].startswith("DOWN")
        assert watch.sent_while_down(name) == []
    last = watch.samples[-1]
    assert set(last.status.values()) == {"UP"}
    assert all(
        last.sent[name] > watch.last_before(exited_at[name]).sent[name] for name in SERVER_NAMES
    ), "a restarted host got no traffic again"


async def test_a_host_that_dies_under_load_loses_only_its_requests_in_flight(
    running_cluster: Cluster, writers: list[str]
) -> None:
    """SIGKILL: nothing is finished or drained. HAProxy takes the host out within its checks;
    reads it was serving are retried elsewhere, writes in flight on it fail (the host may have
    committed them: replaying could post twice); nothing acknowledged is lost. A read whose
    answer had begun (its headers passed on) arrives cut short: no proxy can replay half an
    answer (seen once in CI's kind of run: 0 of 311 bytes of a GET's body)."""
    victim = "host_a"
    killed: dict[str, float] = {}

    async def kill_one_host() -> None:
        await asyncio.sleep(1)  # both hosts under load, and HAProxy sampled meanwhile
        killed["sent"] = time.monotonic()
        await asyncio.to_thread(running_cluster.hosts[victim].kill)  # returns once it is gone
        killed["dead"] = time.monotonic()
        # HAProxy takes it out within OUT_OF_ROTATION_SECONDS; then a while of the load with
        # the host out, in which it must be sent nothing.
        await asyncio.sleep(OUT_OF_ROTATION_SECONDS + 1.5)

    # The victim stays down: the next test's fixture starts it again, if one needs it.
    async with Watch(running_cluster) as watch:
        load = await run_load(running_cluster, writers, seconds=5, during=kill_one_host)

    out = watch.first_down_after(victim, killed["sent"])
    assert out.at - killed["sent"] < OUT_OF_ROTATION_SECONDS
    assert watch.sent_while_down(victim) == []
    assert len(load.failures) <= CLIENTS
    for failure in load.failures:  # in flight on it as it died: none started once it was gone
        on_a_dead_connection = (
            "Server disconnected without sending a response" in failure.error
            and failure.started < killed["dead"] + DEAD_CONNECTION_SECONDS
        )
        assert failure.started < killed["dead"] or on_a_dead_connection, failure
        assert failure.ended > killed["sent"], failure
        cut_short = "without sending complete message body" in failure.error
        assert failure.method == "POST" or cut_short, failure
    await assert_every_acknowledged_write_is_stored(
        running_cluster, list(load.acknowledged.values())
    )


async def test_a_users_posts_are_counted_across_both_hosts(limited_cluster: Cluster) -> None:
    """The write rate limits as deployed: both hosts count one user's writes together (in
    Redis), so a user cannot double their allowance by landing on the other host."""
    async with httpx.AsyncClient(
        base_url=limited_cluster.url, trust_env=False, timeout=30
    ) as client:
        accepted, refused = await posts_past_the_limit_in_one_minute(client)
        # Someone else writing on the same hosts is not held up.
        other = await sign_up(client, unique("calm"))
        written = await client.post(
            "/api/posts", json={"title": "Mine", "content": "Text."}, headers=other
        )

    assert [response.status_code for response in accepted] == [201] * PER_MINUTE[POSTS]
    assert [response.status_code for response in refused] == [429, 429]
    assert all(1 <= int(response.headers["retry-after"]) <= 60 for response in refused)
    assert (
        {answered_by(r) for r in accepted} == {answered_by(r) for r in refused} == set(SERVER_NAMES)
    )
    assert written.status_code == 201, written.text


async def posts_past_the_limit_in_one_minute(
    client: httpx.AsyncClient,
) -> tuple[list[httpx.Response], list[httpx.Response]]:
    """A new user's PER_MINUTE posts and two more, all within one clock minute (the limits
    count per minute): writes that straddled two are written again, as another user, in
    the minute that has just begun (no waiting for a quiet minute)."""
    for _ in range(2):
        headers = await sign_up(client, unique("eager"))
        minute = time.time() // 60
        responses = [
            await client.post(
                "/api/posts", json={"title": f"Post {n}", "content": "Text."}, headers=headers
            )
            for n in range(PER_MINUTE[POSTS] + 2)
        ]
        if time.time() // 60 == minute:
            break
    return responses[: PER_MINUTE[POSTS]], responses[PER_MINUTE[POSTS] :]
