"""The demo blog's content, read from the package data in `fastblog/seed/demo/`: one Markdown
file per post (a small front matter, then the body), `blog.toml` for the people, comments,
likes, follows and site settings, `about.md` for the About page.

Everything is checked here, before anything is written: a typo in a front matter or a
comment on a post that does not exist fails at once, naming the file and the field."""

import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from importlib import resources
from importlib.abc import Traversable
from typing import Any

DRAFT, PUBLISHED, SCHEDULED = "draft", "published", "scheduled"
STATUSES = (DRAFT, PUBLISHED, SCHEDULED)
FRONT_MATTER_FIELDS = {"title", "author", "tags", "days_ago", "at", "status"}


class DemoContentError(ValueError):
    """The package's demo content is inconsistent (a bug in the content, not in the input)."""


@dataclass(frozen=True)
class Person:
    key: str
    username: str
    email: str
    role: str
    bio: str
    website: str | None


@dataclass(frozen=True)
class DemoPost:
    key: str  # the file's name without .md: what comments and likes refer to
    title: str
    author: str
    tags: list[str]
    days_ago: int  # negative: scheduled that many days ahead
    at: time
    status: str
    content: str

    def written(self, now: datetime) -> datetime:
        """When it was written (published posts and drafts) or is due (scheduled), from `now`."""
        day = (now - timedelta(days=self.days_ago)).date()
        return datetime.combine(day, self.at, tzinfo=now.tzinfo)


@dataclass(frozen=True)
class DemoComment:
    post: str
    by: str
    hours_after: float  # after the post was published, or after the comment before it
    body: str
    waiting: bool  # waits for approval (a reader's first comment with links)


@dataclass(frozen=True)
class DemoBlog:
    site: dict[str, Any]
    people: list[Person]
    posts: list[DemoPost]
    comments: list[DemoComment]
    likes: dict[str, list[str]]  # post key -> the people who like it
    follows: dict[str, list[str]]  # person key -> whom they follow
    about: str

    def person(self, key: str) -> Person:
        return next(person for person in self.people if person.key == key)


def content_dir() -> Traversable:
    return resources.files("fastblog.seed") / "demo"


def parse_post(key: str, text: str) -> DemoPost:
    """A post file: `---`, `name: value` lines, `---`, then the Markdown body."""
    lines = text.split("\n")
    if lines[0] != "---" or "---" not in lines[1:]:
        raise DemoContentError(f"{key}.md: no front matter between two '---' lines")
    end = lines.index("---", 1)
    fields: dict[str, str] = {}
    for line in lines[1:end]:
        name, colon, value = line.partition(":")
        if not colon or name.strip() not in FRONT_MATTER_FIELDS:
            raise DemoContentError(f"{key}.md: unknown front matter line {line!r}")
        fields[name.strip()] = value.strip()
    missing = FRONT_MATTER_FIELDS - fields.keys()
    if missing:
        raise DemoContentError(f"{key}.md: front matter lacks {', '.join(sorted(missing))}")
    status, days_ago = fields["status"], int(fields["days_ago"])
    if status not in STATUSES or (status == SCHEDULED) != (days_ago < 0):
        raise DemoContentError(f"{key}.md: status {status!r} with days_ago {days_ago}")
    return DemoPost(
        key=key,
        title=fields["title"],
        author=fields["author"],
        tags=[tag.strip() for tag in fields["tags"].split(",") if tag.strip()],
        days_ago=days_ago,
        at=time.fromisoformat(fields["at"]),
        status=status,
        content="\n".join(lines[end + 1 :]).strip() + "\n",
    )


def load(directory: Traversable | None = None) -> DemoBlog:
    """The demo blog, checked: every name a comment, like, follow or post uses exists."""
    directory = directory or content_dir()
    data = tomllib.loads((directory / "blog.toml").read_text(encoding="utf-8"))
    people = [
        Person(
            key=entry["key"],
            username=entry["username"],
            email=entry["email"],
            role=entry["role"],
            bio=entry.get("bio", ""),
            website=entry.get("website"),
        )
        for entry in data["people"]
    ]
    posts = sorted(
        (
            parse_post(entry.name.removesuffix(".md"), entry.read_text(encoding="utf-8"))
            for entry in directory.iterdir()
            if entry.name.endswith(".md") and entry.name != "about.md"
        ),
        key=lambda post: (-post.days_ago, post.at, post.key),  # oldest first
    )
    comments = [
        DemoComment(
            post=entry["post"],
            by=entry["by"],
            hours_after=float(entry["hours_after"]),
            body=entry["body"].strip(),
            waiting=bool(entry.get("waiting", False)),
        )
        for entry in data["comments"]
    ]
    blog = DemoBlog(
        site=data["site"],
        people=people,
        posts=posts,
        comments=comments,
        likes=data["likes"],
        follows=data["follows"],
        about=(directory / "about.md").read_text(encoding="utf-8"),
    )
    _check_references(blog)
    return blog


def _check_references(blog: DemoBlog) -> None:
    people = {person.key for person in blog.people}
    posts = {post.key: post for post in blog.posts}
    named = [
        *((f"post {post.key}", post.author) for post in blog.posts),
        *((f"a comment on {comment.post}", comment.by) for comment in blog.comments),
        *((f"likes of {key}", who) for key, whos in blog.likes.items() for who in whos),
        *((f"follows of {key}", who) for key, whos in blog.follows.items() for who in whos),
        *((f"follows of {key}", key) for key in blog.follows),
    ]
    for where, who in named:
        if who not in people:
            raise DemoContentError(f"{where} names {who!r}, who is not among the people")
    for where, key in [
        *((f"a comment by {comment.by}", comment.post) for comment in blog.comments),
        *(("likes", key) for key in blog.likes),
    ]:
        if key not in posts or posts[key].status != PUBLISHED:
            raise DemoContentError(f"{where} is on {key!r}, which is not a published post")
