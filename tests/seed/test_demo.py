"""The demo blog of `fastblog seed` (`make seed`): on a fresh database it is a blog a newcomer
can read, served by the app itself; a second run adds nothing."""

import re
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import anyio
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from fastblog.cli import main
from fastblog.config import Settings
from fastblog.models import Comment, Follow, Post, PostLike, User
from fastblog.posts.schemas import PostWrite
from fastblog.seed.demo_blog import DemoAlreadySeededError, seed_demo
from fastblog.seed.demo_content import DRAFT, PUBLISHED, SCHEDULED, DemoPost, load
from tests.factories import login_through_endpoint
from tests.html import read_page
from tests.processes import FASTBLOG, fastblog_env, fastblog_in_process
from tests.seed.conftest import serving

pytestmark = pytest.mark.anyio

BLOG = load()
BY_STATUS = Counter(post.status for post in BLOG.posts)


async def row_counts(connection: AsyncConnection) -> dict[str, int]:
    counts = {}
    for model in (User, Post, Comment, PostLike, Follow):
        counts[model.__tablename__] = await connection.scalar(
            select(func.count()).select_from(model)
        )
    await connection.rollback()  # a fresh snapshot next time
    return counts


class Structure(HTMLParser):
    """The parts of a page's HTML a post's Markdown becomes: the text of its h2 headings (the
    renderer starts a post's outline at <h2>, under the title's <h1>: its `##`), and how
    many tables, code blocks (by language), block quotes and list items it holds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[str] = []
        self.elements: Counter[str] = Counter()
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements[tag] += 1
        classes = dict(attrs).get("class") or ""
        for language in re.findall(r"language-(\w+)", classes):
            self.elements[f"code:{language}"] += 1
        if tag == "h2":
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


def structure(html: str) -> Structure:
    parser = Structure()
    parser.feed(html)
    parser.close()
    return parser


def markdown_headings(post: DemoPost) -> list[str]:
    """The `## ` headings of the post, outside code blocks, as a reader sees them."""
    headings, in_code = [], False
    for line in post.content.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif line.startswith("## ") and not in_code:
            headings.append(line.removeprefix("## ").replace("*", "").replace("`", ""))
    return headings


def test_the_demo_content_is_valid_posts_with_every_kind_of_markup() -> None:
    assert 13 <= BY_STATUS[PUBLISHED] <= 17
    assert BY_STATUS[DRAFT] in (1, 2)
    assert BY_STATUS[SCHEDULED] == 1
    for post in BLOG.posts:
        # What the API would accept: a title of at most 100 characters, valid tags.
        checked = PostWrite(title=post.title, content=post.content, tags=post.tags)
        assert checked.tags == post.tags, post.key
        assert markdown_headings(post), f"{post.key} has no ## heading"
        assert not re.search(r"^# ", post.content, re.MULTILINE), f"{post.key}: # is the title's"
    everything = "\n".join(post.content for post in BLOG.posts)
    for markup in ("```python", "```sql", "```sh", "| ---", "\n> ", "](https://", "\n1. ", "\n- "):
        assert markup in everything.replace("|---", "| ---"), markup
    writers = {post.author for post in BLOG.posts}
    assert [BLOG.person(key).role for key in sorted(writers)].count("owner") == 1
    assert 4 <= len(writers) <= 5, "an owner and three or four authors"
    assert all(BLOG.person(key).bio and BLOG.person(key).website for key in writers)
    assert sum(comment.waiting for comment in BLOG.comments) == 1


async def test_the_demo_blog_reads_like_a_blog(
    settings: Settings, connection: AsyncConnection
) -> None:
    started_at = datetime.now(UTC)
    seeded = await seed_demo(settings)

    waiting = next(comment for comment in BLOG.comments if comment.waiting)
    likes = sum(len(people) for people in BLOG.likes.values())
    assert await row_counts(connection) == {
        "users": len(BLOG.people),
        "posts": len(BLOG.posts),
        "comments": len(BLOG.comments),
        "post_likes": likes,
        "follows": sum(len(people) for people in BLOG.follows.values()),
    }
    assert (seeded.published, seeded.drafts, seeded.scheduled) == (
        BY_STATUS[PUBLISHED],
        BY_STATUS[DRAFT],
        BY_STATUS[SCHEDULED],
    )
    assert (seeded.comments, seeded.waiting) == (len(BLOG.comments) - 1, 1)
    roles = dict((await connection.execute(select(User.username, User.role))).all())
    await connection.rollback()
    assert roles == {person.username: person.role for person in BLOG.people}
    async with serving(settings) as client:
        listed = (await client.get("/api/posts", params={"limit": 100})).json()
        published = [post for post in BLOG.posts if post.status == PUBLISHED]
        # Newest first, each by its author; drafts and the scheduled post are not listed.
        assert [post["title"] for post in listed["posts"]] == [
            post.title for post in reversed(published)
        ]
        assert listed["total"] == len(published)
        dates = [datetime.fromisoformat(post["published_at"]) for post in listed["posts"]]
        assert (started_at - dates[-1]).days > 60, "spread over the last months"
        assert all(date < started_at for date in dates)
        assert sum(post["likes"] for post in listed["posts"]) == likes
        # A waiting comment counts nowhere until it is approved.
        assert sum(post["comments"] for post in listed["posts"]) == len(BLOG.comments) - 1

        home = read_page(await client.get("/"))
        assert home.has_link(published[-1].title), "the newest post is on the home page"
        ids = {}
        for listed_post, post in zip(listed["posts"], reversed(published), strict=True):
            ids[post.key] = listed_post["id"]
            response = await client.get(f"/posts/{listed_post['id']}/{listed_post['slug']}")
            assert response.status_code == 200, post.key
            page = structure(response.text)
            assert set(markdown_headings(post)) <= set(page.headings), post.key
            for markdown, element in [("|--", "table"), ("\n> ", "blockquote"), ("```", "pre")]:
                if markdown in post.content:
                    assert page.elements[element], f"{post.key}: no <{element}>"
            for language in set(re.findall(r"^```(\w+)", post.content, re.MULTILINE)):
                assert page.elements[f"code:{language}"], f"{post.key}: no {language} code"
            article = read_page(response)
            writer = BLOG.person(post.author)
            # Under the article: its writer, their bio and website.
            assert writer.username in article.text
            assert writer.bio in article.text
            assert writer.website in {link.href.rstrip("/") for link in article.links}
            for comment in BLOG.comments:
                if comment.post == post.key:  # shown once approved; the waiting one is not
                    shown = comment.body.split("`")[0][:40] in article.text
                    assert shown is not comment.waiting, comment

        # The owner's words: title, navigation, footer, and the About page.
        site = (await client.get("/api/site")).json()
        assert (site["title"], site["footer"]) == (BLOG.site["title"], BLOG.site["footer"])
        assert BLOG.site["title"] in home.title
        assert BLOG.site["footer"] in home.text
        about = read_page(await client.get(home.link("About").path))
        assert "Who writes here" in about.text
        assert "Elena García" in about.text

        # Search finds a demo post by a word of its text.
        found = (await client.get("/api/search", params={"q": "barista"})).json()["posts"]
        assert [post["title"] for post in found] == ["Async Python, explained with a coffee shop"]

        # A draft is its author's alone; a demo account logs in with the documented password.
        draft = next(post for post in BLOG.posts if post.status == DRAFT)
        author = BLOG.person(draft.author)
        draft_id = await connection.scalar(select(Post.id).where(Post.title == draft.title))
        await connection.rollback()
        assert (await client.get(f"/api/posts/{draft_id}")).status_code == 404
        headers = await login_through_endpoint(client, author.email, "fastblog-demo")
        mine = await client.get(f"/api/posts/{draft_id}", headers=headers)
        assert mine.json()["status"] == "draft"
        # The owner (the first account) finds the one comment waiting for approval.
        owner = await login_through_endpoint(client, BLOG.people[0].email, "fastblog-demo")
        me = (await client.get("/api/users/me", headers=owner)).json()
        assert (me["username"], me["role"]) == (BLOG.people[0].username, "owner")
        queue = await client.get("/api/comments", params={"status": "pending"}, headers=owner)
        assert [(comment["post_id"], comment["body"]) for comment in queue.json()["comments"]] == [
            (ids[waiting.post], waiting.body)
        ]

    # Running it again adds nothing, and says why.
    before = await row_counts(connection)
    with pytest.raises(DemoAlreadySeededError, match="already in this database"):
        await seed_demo(settings)
    assert await row_counts(connection) == before


async def test_fastblog_seed_without_numbers_adds_the_demo_once(
    settings: Settings, tmp_path: Path
) -> None:
    environment = fastblog_env(settings.database_url)

    first = await anyio.run_process([FASTBLOG, "seed"], env=environment, cwd=tmp_path, check=False)
    # Again through the command's `main` in this process, on the same settings: the refusal's
    # status and message, without a second interpreter (tests.processes.fastblog_in_process).
    status, out, err = await fastblog_in_process(settings, "seed")

    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout.decode().startswith(f"Added the demo blog: {len(BLOG.people)} people, ")
    assert "mara@example.com" in first.stdout.decode()
    assert status == 1
    assert out == ""
    assert "already in this database" in err
    assert "nothing was added" in err


async def test_the_demo_takes_no_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["seed", "--demo", "--posts", "5"])

    assert exited.value.code == 2
    assert "--demo takes no other option" in capsys.readouterr().err
