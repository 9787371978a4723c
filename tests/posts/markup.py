"""Parse rendered HTML as a browser would, to check what it holds (never by string search)."""

from dataclasses import dataclass, field
from html.parser import HTMLParser

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "background"}


@dataclass
class Markup:
    tags: list[str] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)
    rels: list[str] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    scripts: int = 0  # elements that run or embed code
    # <script src="/static/js/..."> of the page itself (the post form's editor.js): this
    # site's own files, which the CSP allows; never something a payload can point elsewhere.
    own_scripts: list[str] = field(default_factory=list)
    # <script type="application/ld+json">: a data block, which browsers never run; its text.
    data_blocks: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)  # on* attributes
    dangerous_urls: list[str] = field(default_factory=list)  # javascript:, data:, vbscript:
    styles: list[str] = field(default_factory=list)
    text: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.markup = Markup()
        self._text: list[str] = []
        self._in_data_block = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        markup = self.markup
        markup.tags.append(tag)
        kind = (dict(attrs).get("type") or "").strip().lower()
        if tag == "script" and kind == "application/ld+json":
            markup.data_blocks.append("")
            self._in_data_block = True
        elif tag == "script" and (dict(attrs).get("src") or "").startswith("/static/js/"):
            markup.own_scripts.append(dict(attrs)["src"] or "")
        elif tag in ("script", "iframe", "object", "embed"):
            markup.scripts += 1
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                markup.handlers.append(f"{tag} {name}={value}")
            if name in URL_ATTRIBUTES:
                # Browsers ignore whitespace and control characters in a URL's scheme.
                scheme = "".join(c for c in value if c > " ").lower()
                if scheme.startswith(("javascript:", "data:", "vbscript:")):
                    markup.dangerous_urls.append(f"{tag} {name}={value}")
            if name == "href":
                markup.hrefs.append(value)
            if name == "rel":
                markup.rels.append(value)
            if name == "class":
                markup.classes.update(value.split())
            if name == "style":
                markup.styles.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_data_block = False

    def handle_data(self, data: str) -> None:
        if self._in_data_block:
            self.markup.data_blocks[-1] += data
            return
        self._text.append(data)


def read_markup(html: str) -> Markup:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader.markup.text = "".join(reader._text)
    return reader.markup
