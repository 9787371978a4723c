"""Read a rendered page the way a reader sees it (its visible text, links and images) and the
way a machine does (its meta tags, <link> elements and JSON-LD)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx

INVISIBLE = {"script", "style", "head"}


@dataclass
class Link:
    text: str
    href: str

    @property
    def path(self) -> str:
        """The path the link leads to, whether the href is absolute or relative."""
        return httpx.URL(self.href).path


@dataclass
class Page:
    title: str = ""
    text: str = ""
    links: list[Link] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    stylesheets: list[str] = field(default_factory=list)
    # <meta name=... content=...> and <meta property=... content=...>, by name or property.
    meta: dict[str, str] = field(default_factory=dict)
    head_links: list[dict[str, str]] = field(default_factory=list)  # every <link>'s attributes
    json_ld: list[str] = field(default_factory=list)  # the text of each ld+json script
    # What Tab reaches, in document order: links with an href, buttons, form fields.
    focusable: list[dict[str, str]] = field(default_factory=list)

    def link(self, text: str) -> Link:
        """The one link whose visible text is `text`."""
        found = [link for link in self.links if link.text == text]
        assert len(found) == 1, f"{len(found)} links read {text!r}: {self.links}"
        return found[0]

    def has_link(self, text: str) -> bool:
        return any(link.text == text for link in self.links)

    def head_link(self, rel: str, **attributes: str) -> dict[str, str]:
        """The one <link> with this rel (and these attributes)."""
        found = [
            link
            for link in self.head_links
            if rel in link.get("rel", "").split()
            and all(link.get(name) == value for name, value in attributes.items())
        ]
        assert len(found) == 1, f"{len(found)} <link rel={rel} {attributes}>: {self.head_links}"
        return found[0]


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._text: list[str] = []
        self._invisible = 0
        self._in_title = False
        self._title: list[str] = []
        self._anchors: list[tuple[str, list[str]]] = []
        self._json_ld: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "title":
            self._in_title = True
        if tag in INVISIBLE:
            self._invisible += 1
        elif tag == "a":
            self._anchors.append((attributes.get("href", ""), []))
        elif tag == "img":
            self.page.images.append(attributes.get("src", ""))
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.page.stylesheets.append(attributes.get("href", ""))
        if tag == "link":
            self.page.head_links.append(attributes)
        elif tag == "meta" and "content" in attributes:
            key = attributes.get("name") or attributes.get("property")
            if key:
                self.page.meta[key] = attributes["content"]
        elif tag == "script" and attributes.get("type") == "application/ld+json":
            self._json_ld = []
        if self._focusable(tag, attributes):
            self.page.focusable.append({"tag": tag, **attributes})

    @staticmethod
    def _focusable(tag: str, attributes: dict[str, str]) -> bool:
        if tag == "input":
            return attributes.get("type") != "hidden"
        return (tag == "a" and "href" in attributes) or tag in {"button", "textarea", "select"}

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag == "script" and self._json_ld is not None:
            self.page.json_ld.append("".join(self._json_ld))
            self._json_ld = None
        if tag in INVISIBLE:
            self._invisible -= 1
        elif tag == "a" and self._anchors:
            href, words = self._anchors.pop()
            self.page.links.append(Link(text=" ".join(" ".join(words).split()), href=href))

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        if self._json_ld is not None:
            self._json_ld.append(data)
        if self._invisible:
            return
        self._text.append(data)
        for _, words in self._anchors:
            words.append(data)

    def close(self) -> None:
        super().close()
        self.page.title = " ".join("".join(self._title).split())
        self.page.text = " ".join(" ".join(self._text).split())


def read_page(response: httpx.Response) -> Page:
    assert response.headers["content-type"].startswith("text/html"), response.headers
    reader = _Reader()
    reader.feed(response.text)
    reader.close()
    return reader.page
