"""docs/pictures-390.png and docs/pictures-1280.png: a post with uploaded pictures (a feature
image, a figure with a caption, a square one) in Chromium 390 and 1280 px wide.

`python -m tools.picture_screenshots` serves the app as `make run` does (bench.live) on a
SQLite file in a temporary folder, writes the post through the API, then screenshots its page
with Playwright and Debian's Chromium (CHROMIUM_PATH), launched as tests/browser launches it.
"""

import os
import subprocess
import tempfile
from io import BytesIO
from pathlib import Path

import httpx
from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright

from bench.live import FASTBLOG, bearer_headers, live_server

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "a long enough password 42"  # noqa: S105 - a throwaway blog


def landscape(width: int, height: int, sky: str, sea: str, sun: str) -> bytes:
    """A drawn harbour: a sky fading to the horizon, the sea, a sun and two sails."""
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)
    horizon = height * 3 // 5
    for y in range(horizon):  # the sky lightens towards the horizon
        shade = int(90 * y / horizon)
        r, g, b = Image.new("RGB", (1, 1), sky).getpixel((0, 0))  # type: ignore[misc]
        draw.line([(0, y), (width, y)], fill=(min(255, r + shade), min(255, g + shade), b))
    draw.rectangle([0, horizon, width, height], fill=sea)
    radius = height // 9
    cx, cy = width * 2 // 3, horizon - radius // 2
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=sun)
    draw.rectangle([0, horizon, width, height], fill=sea)  # the sun sets behind the sea
    for x in (width // 5, width * 2 // 5):
        base = horizon + height // 8
        draw.polygon([(x, base - height // 5), (x, base), (x + width // 14, base)], fill="white")
        draw.rectangle([x - width // 40, base, x + width // 12, base + height // 40], fill="#333")
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def write_post(base_url: str) -> str:
    with httpx.Client(base_url=base_url, timeout=60, trust_env=False) as client:
        client.post(
            "/api/users",
            json={"username": "marta", "email": "marta@example.com", "password": PASSWORD},
        ).raise_for_status()
        headers = bearer_headers(base_url, "marta", PASSWORD)

        def upload(data: bytes, alt: str) -> dict[str, str]:
            files = {"file": ("photo.jpg", data, "image/jpeg")}
            response = client.post("/api/media", files=files, data={"alt": alt}, headers=headers)
            response.raise_for_status()
            picture: dict[str, str] = response.json()
            return picture

        feature = upload(landscape(2400, 1350, "#e07a5f", "#3d5a80", "#f2cc8f"), "Sunset")
        harbour = upload(landscape(1800, 1200, "#81b29a", "#264653", "#f4f1de"), "Boats")
        square = upload(landscape(900, 900, "#457b9d", "#1d3557", "#e9c46a"), "Noon")
        content = (
            "We left the harbour before dawn and sailed along the coast all day.\n\n"
            f'![Two sailing boats leaving the harbour]({harbour["url"]} "Leaving the harbour")\n\n'
            "By noon the wind had dropped, and the sea was flat enough to read on deck.\n\n"
            f'![The sun high over a calm sea]({square["url"]} "Noon, becalmed")\n\n'
            "The wind came back in the evening and brought us home."
        )
        response = client.post(
            "/api/posts",
            json={
                "title": "A day at sea",
                "content": content,
                "tags": ["sailing"],
                "feature_image": feature["url"],
                "feature_image_alt": "The sun setting behind the sea",
            },
            headers=headers,
        )
        response.raise_for_status()
        post = response.json()
        return f"/posts/{post['id']}/{post['slug']}"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", folder),
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'blog.db'}",
            "MEDIA_DIR": str(workdir / "media"),
            "SECRET_KEY": "screenshots-" + "k" * 40,
            "SITE_NAME": "Logbook",
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run([FASTBLOG, "db", "upgrade"], cwd=workdir, env=env, check=True)  # noqa: S603
        with live_server(env, cwd=workdir, log_path=workdir / "server.log") as server:
            path = write_post(server.url)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for width, height in ((390, 844), (1280, 900)):
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(server.url + path)
                    page.wait_for_function(
                        "[...document.images].every(i => i.complete && i.naturalWidth > 0)"
                    )
                    target = DOCS / f"pictures-{width}.png"
                    page.screenshot(path=target, full_page=True)
                    print(f"{target}: {page.evaluate('document.body.scrollHeight')} px tall")
                    page.close()
                browser.close()


if __name__ == "__main__":
    main()
