"""The same CPU-bound function, on the loop and in the process pool."""

import httpx
import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("where", "mode"), [("inline", "cpu-inline"), ("process", "cpu-process")])
async def test_counts_primes_on_the_loop_or_in_a_process(
    lab: httpx.AsyncClient, where: str, mode: str
) -> None:
    response = await lab.get(f"/lab/cpu/{where}", params={"n": 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["mode"], body["n"], body["primes"]) == (mode, 1000, 168)
    assert body["elapsed_ms"] >= 0


@pytest.mark.parametrize("where", ["inline", "process"])
@pytest.mark.parametrize("n", ["1", "1000001", "many"])
async def test_out_of_range_work_is_refused(lab: httpx.AsyncClient, where: str, n: str) -> None:
    response = await lab.get(f"/lab/cpu/{where}", params={"n": n})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "n"]
