"""What a post says about itself to machines: its address, a short description, the share card
(OpenGraph, Twitter) and JSON-LD. The one place that knows a post's URL."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

DESCRIPTION_LENGTH = 160
# In a <script> element only "</" could end it early (and "<!--" confuse it); escaping every
# "<", ">" and "&" as JSON's \u escapes keeps the data the same and the element closed.
# One str.replace a character, not str.translate: in a text that is not all ASCII (a cut
# description ends in "…") translate looks every character up in its table, raising and
# clearing a KeyError for each one it leaves alone (~600 instructions a character, 15% of a
# post page); replace scans in C. No replacement holds a character replaced after it.
_JSON_IN_HTML = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def post_path(post: Mapping[str, Any]) -> str:
    """The post's canonical path: its id, then its slug (a stale slug answers 301 to this)."""
    return f"/posts/{post['id']}/{post['slug']}"


def author_path(user_id: int) -> str:
    return f"/users/{user_id}/posts"


def describe(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """The text on one line, cut at a word boundary to at most `limit` characters."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    if " " in cut and words[limit - 1] != " ":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


def json_for_script(data: Any) -> Markup:
    """JSON safe to embed in a <script type="application/ld+json"> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for character, escaped in _JSON_IN_HTML:
        text = text.replace(character, escaped)
    return Markup(text)  # noqa: S704 - nothing in it can close the element


@dataclass(frozen=True, slots=True)
class ShareImage:
    url: str  # absolute
    width: int | None = None
    height: int | None = None
    alt: str = ""


@dataclass(frozen=True, slots=True)
class PostMeta:
    url: str  # absolute, canonical
    description: str
    author_url: str
    image: ShareImage | None
    json_ld: Markup


def share_image(post: Mapping[str, Any], *, site: str, site_image: str) -> ShareImage | None:
    """The share card's picture: the post's (its feature image, else its first uploaded
    picture: worked out when it was written), else the site's share image, else none (never
    the author's avatar, which says nothing of the post)."""
    picture = post.get("picture")
    if picture:
        return ShareImage(
            site + picture["url"], picture["width"], picture["height"], picture["alt"]
        )
    if site_image:
        return ShareImage(site_image if site_image.startswith("https://") else site + site_image)
    return None


def post_meta(
    post: Mapping[str, Any], *, site: str, site_name: str, site_image: str = ""
) -> PostMeta:
    """`site` is the site's absolute address without a trailing slash (fastblog.web.urls)."""
    author = post["author"]
    url = site + post_path(post)
    description = describe(post["excerpt"])  # computed when the post was written
    author_url = site + author_path(author["id"])
    image = share_image(post, site=site, site_image=site_image)
    published = (post["published_at"] or post["updated_at"]).isoformat()  # a draft: its save
    posting = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post["title"],
        "description": description,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": published,
        "dateModified": post["updated_at"].isoformat(),
        "author": {"@type": "Person", "name": author["username"], "url": author_url},
        **({"image": image.url} if image else {}),
        "publisher": {"@type": "Organization", "name": site_name, "url": site + "/"},
    }
    return PostMeta(url, description, author_url, image, json_for_script(posting))
