"""Ten picture uploads at once: how long they take, and how long the event loop stalls.

`python -m bench.media_upload` (UPLOADS=10 WIDTH=4000 HEIGHT=3000). The app is served the way
`make run` serves it (`fastblog serve` through bench.live, one worker, the process pool at its
default of one process per core unless PROCESS_POOL_WORKERS says otherwise) on a SQLite file in
a temporary folder, with the event-loop monitor sampling every 5 ms (LOOP_LAG_INTERVAL_MS=5).
One upload warms the process pool (its workers start on first use); the loop-lag histogram of
/metrics is read over IDLE_SECONDS (10) of nothing, as a baseline of what the machine's other
work does to the loop, then over the uploads sent at once over loopback.
Figures go to docs/performance.md.
"""

import asyncio
import os
import re
import statistics
import subprocess
import tempfile
import time
from io import BytesIO
from pathlib import Path

import httpx
from PIL import Image

from bench.live import FASTBLOG, bearer_headers, live_server

PASSWORD = "a long enough password 42"  # noqa: S105 - a throwaway blog
BUCKET = re.compile(r'^fastblog_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', re.M)


def phone_photo(width: int, height: int) -> bytes:
    """A JPEG as a phone makes one: noisy pixels (they compress like a photo) and EXIF."""
    noise = Image.effect_noise((width, height), 60).convert("RGB")
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = Image.blend(noise, gradient, 0.5)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def lag_buckets(client: httpx.Client) -> dict[str, float]:
    metrics = client.get("/metrics")
    metrics.raise_for_status()
    return {le: float(count) for le, count in BUCKET.findall(metrics.text)}


async def burst(base_url: str, headers: dict[str, str], photo: bytes, uploads: int) -> list[float]:
    async with httpx.AsyncClient(base_url=base_url, timeout=600, trust_env=False) as client:

        async def one() -> float:
            started = time.perf_counter()
            files = {"file": ("photo.jpg", photo, "image/jpeg")}
            response = await client.post("/api/media", files=files, headers=headers)
            response.raise_for_status()
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one() for _ in range(uploads))))


def main() -> None:
    uploads = int(os.environ.get("UPLOADS", "10"))
    width, height = int(os.environ.get("WIDTH", "4000")), int(os.environ.get("HEIGHT", "3000"))
    photo = phone_photo(width, height)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", folder),
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
            "MEDIA_DIR": str(workdir / "media"),
            "SECRET_KEY": "bench-" + "k" * 40,
            "WRITE_RATE_LIMITS": "false",
            "LOOP_LAG_INTERVAL_MS": "5",
            "LOOP_LAG_WARNING_MS": "1000",
            "LOG_LEVEL": "WARNING",
            "PROCESS_POOL_WORKERS": os.environ.get("PROCESS_POOL_WORKERS", "0"),
        }
        subprocess.run([FASTBLOG, "db", "upgrade"], cwd=workdir, env=env, check=True)
        with (
            live_server(env, cwd=workdir, log_path=workdir / "server.log") as server,
            httpx.Client(base_url=server.url, timeout=600, trust_env=False) as client,
        ):
            account = {"username": "bench", "email": "bench@example.com", "password": PASSWORD}
            client.post("/api/users", json=account).raise_for_status()  # the owner
            headers = bearer_headers(server.url, "bench", PASSWORD)
            started = time.perf_counter()
            files = {"file": ("photo.jpg", photo, "image/jpeg")}
            client.post("/api/media", files=files, headers=headers).raise_for_status()
            warm = time.perf_counter() - started
            idle_start = lag_buckets(client)
            time.sleep(float(os.environ.get("IDLE_SECONDS", "10")))
            before = lag_buckets(client)
            idle = {le: before[le] - idle_start.get(le, 0.0) for le in before}
            started = time.perf_counter()
            latencies = asyncio.run(burst(server.url, headers, photo, uploads))
            wall = time.perf_counter() - started
            after = lag_buckets(client)
    added = {le: after[le] - before.get(le, 0.0) for le in after}
    print(f"photo: {width}x{height} JPEG, {len(photo) / 1e6:.1f} MB (EXIF orientation 6)")
    print(f"one upload, pool workers starting: {warm * 1000:.0f} ms")
    print(f"{uploads} uploads at once: all done in {wall:.1f} s")
    print(f"  per upload: median {statistics.median(latencies):.1f} s, max {max(latencies):.1f} s")
    report("idle", idle)
    report("during the uploads", added)


def report(what: str, buckets: dict[str, float]) -> None:
    samples = buckets["+Inf"]
    print(f"loop lag {what} ({samples:.0f} samples, one every 5 ms), share at most:")
    for le, count in buckets.items():
        if le != "+Inf" and float(le) <= 0.5:
            print(f"  {float(le) * 1000:>4.0f} ms: {count / samples:7.2%}")
    worst = next((le for le, count in buckets.items() if count == samples), "+Inf")
    print(f"  every sample at most {float(worst) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
