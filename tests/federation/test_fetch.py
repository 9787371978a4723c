"""Remote fetches: private and loopback addresses refused unless allowed, at most three
redirects, at most 1 MB read; against a real HTTP server on loopback."""

import pytest

from fastblog.federation.fetch import MAX_BYTES, FetchError, Remote
from tests.federation.conftest import RemoteServer

pytestmark = pytest.mark.anyio


class Allowing:
    federation_allow_private_addresses = True


class Refusing:
    federation_allow_private_addresses = False


async def test_loopback_and_private_addresses_are_refused_unless_allowed(
    remote: RemoteServer,
) -> None:
    refusing = Remote(Refusing())  # type: ignore[arg-type]
    try:
        for url in (remote.actor, "http://10.1.2.3/x", "http://[::1]/x", "http://localhost/x"):
            with pytest.raises(FetchError, match="private or local"):
                await refusing.fetch_json(url)
        with pytest.raises(FetchError, match="http"):
            await refusing.fetch_json("file:///etc/passwd")
    finally:
        await refusing.aclose()
    allowing = Remote(Allowing())  # type: ignore[arg-type]
    try:
        assert (await allowing.fetch_json(remote.actor))["id"] == remote.actor
    finally:
        await allowing.aclose()


async def test_at_most_three_redirects_and_one_megabyte(remote: RemoteServer) -> None:
    for n in range(5):
        remote.documents[f"/hop{n}"] = (302, {"Location": f"/hop{n + 1}"})
    remote.documents["/hop5"] = {"id": "end"}
    remote.documents["/big"] = b'"' + b"x" * MAX_BYTES + b'"'
    client = Remote(Allowing())  # type: ignore[arg-type]
    try:
        assert (await client.fetch_json(f"{remote.base}/hop2"))["id"] == "end"  # 3 redirects
        with pytest.raises(FetchError, match="redirects"):
            await client.fetch_json(f"{remote.base}/hop1")  # 4
        with pytest.raises(FetchError, match="bytes"):
            await client.fetch_json(f"{remote.base}/big")
    finally:
        await client.aclose()
