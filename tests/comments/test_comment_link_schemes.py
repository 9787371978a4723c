"""A comment's links go to the web or to mail only: Markdown-lite accepts other schemes
(ftp:, tel:, irc:, ...), and the sanitizer takes their address away. Read by parsing."""

from html.parser import HTMLParser

import pytest

from fastblog.comments.markdown import render_comment


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href"))


def hrefs(source: str) -> list[str | None]:
    links = Links()
    links.feed(render_comment(source))
    return links.hrefs


@pytest.mark.parametrize(
    "address", ["ftp://files.example/x", "tel:+15550100", "irc://irc.example/chan", "sms:123"]
)
def test_a_link_outside_web_and_mail_loses_its_address(address: str) -> None:
    assert hrefs(f"[click]({address})") in ([], [None])


@pytest.mark.parametrize(
    "address", ["https://example.com/a", "http://example.com/b", "mailto:ada@example.com"]
)
def test_web_and_mail_links_keep_theirs(address: str) -> None:
    assert hrefs(f"[click]({address})") == [address]
