"""The four ways to wait: each answers what it did, and every bound is enforced."""

import httpx
import pytest

pytestmark = pytest.mark.anyio

WAITS = ["async", "sync", "blocking", "to-thread"]


@pytest.mark.parametrize("mode", WAITS)
async def test_each_wait_takes_at_least_what_was_asked(lab: httpx.AsyncClient, mode: str) -> None:
    response = await lab.get(f"/lab/io/{mode}", params={"ms": 50})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == mode
    assert body["ms"] == 50
    assert body["elapsed_ms"] >= 45  # sleeps never end early; no upper bound on a busy machine


@pytest.mark.parametrize("mode", WAITS)
async def test_the_default_wait_is_100_ms(lab: httpx.AsyncClient, mode: str) -> None:
    response = await lab.get(f"/lab/io/{mode}")
    assert response.status_code == 200, response.text
    assert response.json()["ms"] == 100


@pytest.mark.parametrize(
    "path", ["/lab/io/async", "/lab/io/sync", "/lab/io/blocking", "/lab/io/to-thread"]
)
@pytest.mark.parametrize("ms", ["-1", "5001", "1e9", "soon"])
async def test_out_of_range_waits_are_refused(lab: httpx.AsyncClient, path: str, ms: str) -> None:
    response = await lab.get(path, params={"ms": ms})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "ms"]


async def test_the_blocking_route_is_labelled_as_the_pitfall(lab: httpx.AsyncClient) -> None:
    operation = (await lab.get("/openapi.json")).json()["paths"]["/lab/io/blocking"]["get"]
    assert "The pitfall, kept on purpose" in operation["description"]
    assert "Never do this" in operation["description"]
