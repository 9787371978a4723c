"""Pictures for the media tests, and their upload through the API."""

from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

import httpx
from fastapi import FastAPI
from PIL import Image

from fastblog.accounts.models import User
from tests.accounts import bearer
from tests.asgi import resources_of

ORIENTATION = 0x0112
GPS_IFD = 0x8825


def photo(size: tuple[int, int] = (1200, 900), fmt: str = "JPEG", *, rotate: bool = False) -> bytes:
    """A picture with a left half red and a right half blue; with `rotate`, EXIF orientation 6
    (shown turned 90° clockwise) and a GPS position, as a phone writes them."""
    image = Image.new("RGB", size, "red")
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if rotate:
        exif[ORIENTATION] = 6
        exif.get_ifd(GPS_IFD)[2] = (48.0, 51.0, 24.0)  # latitude
    buffer = BytesIO()
    image.save(buffer, fmt, exif=exif)
    return buffer.getvalue()


async def upload(
    app: FastAPI,
    client: httpx.AsyncClient,
    user: User | None,
    data: bytes,
    *,
    alt: str = "A red and blue flag",
    name: str = "photo.jpg",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    return await client.post(
        "/api/media",
        files={"file": (name, data, content_type)},
        data={"alt": alt},
        headers=bearer(app, user) if user is not None else {},
    )


def stored(app: FastAPI, url: str) -> Path:
    assert url.startswith("/media/pictures/"), url
    return Path(resources_of(app).settings.media_dir) / url.removeprefix("/media/")


VOID = {"input", "br", "hr", "meta", "link", "source", "wbr"}


class Elements(HTMLParser):
    """Every element of a page with its attributes, and the text inside each figcaption; the
    tags open around each <img> (its ancestors)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.parents: list[list[str]] = []
        self.captions: list[str] = []
        self.links: list[dict[str, str | None]] = []
        self.textareas: dict[str, str] = {}
        self.texts: dict[str, str] = {}  # the text of each element with an id or class
        self._open: list[str] = []
        self._textarea: str | None = None
        self._named: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
            self.parents.append(list(self._open))
            return
        if tag == "a":
            self.links.append(dict(attrs))
        if tag == "figcaption":
            self.captions.append("")
        if tag == "textarea":
            self._textarea = dict(attrs).get("name") or ""
            self.textareas[self._textarea] = ""
        if tag in VOID:
            return
        names = [value for key, value in attrs if key in ("id", "class") and value]
        self._named.append((tag, names))
        for name in names:
            self.texts.setdefault(name, "")
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        if self._named and self._named[-1][0] == tag:
            self._named.pop()
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] == "figcaption":
            self.captions[-1] += data
        if self._textarea is not None:
            self.textareas[self._textarea] += data
        for _, names in self._named:
            for name in names:
                self.texts[name] += data


def elements(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser
