"""The post page as a reader sees it: its comments a page at a time, the count, the form
(its errors keep what was written), delete buttons for who may delete; lists show counts."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.models import User
from fastblog.posts.models import Post
from tests.accounts import browser_login, read_form, submit
from tests.comments.helpers import make_comments
from tests.factories import make_user
from tests.html import Page, read_page

pytestmark = pytest.mark.anyio


def page_url(post: Post) -> str:
    return f"/posts/{post.id}/{post.slug}"


async def test_an_anonymous_reader_sees_the_comments_and_a_login_link(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    await make_comments(session, post, reader, 2)

    page = read_page(await client.get(page_url(post)))

    assert "2 comments" in page.text
    assert "Comment 1" in page.text
    assert page.text.index("Comment 1") < page.text.index("Comment 2")
    assert page.link("Log in to comment").href == f"/login?next={page_url(post)}"
    assert not [field for field in page.focusable if field.get("name") == "body"]
    # No button of its own: the only ones are the header's, as on any page (the search box).
    header = read_page(await client.get("/"))
    assert buttons(page) == buttons(header)


def buttons(page: Page) -> list[dict[str, str]]:
    return [field for field in page.focusable if field["tag"] == "button"]


async def test_no_comments_yet(client: httpx.AsyncClient, post: Post) -> None:
    page = read_page(await client.get(page_url(post)))

    assert "0 comments" in page.text
    assert "No comments yet." in page.text


async def test_a_comment_posted_through_the_form_shows_on_the_page(
    client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    await browser_login(client, reader)

    response = await submit(client, f"/posts/{post.id}/comments", {"body": "Well **said**."})

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{page_url(post)}#comment-")
    page = read_page(await client.get(location))
    assert "Your comment is posted." in page.text
    assert "1 comment" in page.text
    assert "Well said" in page.text


async def test_a_refused_comment_comes_back_with_its_text_and_the_reason(
    client: httpx.AsyncClient, post: Post, reader: User
) -> None:
    await browser_login(client, reader)
    too_long = "word " * 1_001

    blank = await submit(client, f"/posts/{post.id}/comments", {"body": "   \n  "})
    long = await submit(client, f"/posts/{post.id}/comments", {"body": too_long})

    assert blank.status_code == long.status_code == 422
    assert read_form(blank.text).errors["body"] == "Please enter a comment."
    assert read_form(long.text).errors["body"] == "Please use at most 5,000 characters."
    assert f">{too_long}</textarea>" in long.text  # the text is kept to fix it
    assert "0 comments" in read_page(long).text


async def test_more_comments_through_the_cursor_link(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    await make_comments(session, post, reader, 25)

    first = read_page(await client.get(page_url(post)))
    assert "25 comments" in first.text
    assert "Comment 20" in first.text
    assert "Comment 21" not in first.text
    more = first.link("More comments →")

    second = read_page(await client.get(more.href))
    assert "Comment 21" in second.text
    assert "Comment 25" in second.text
    assert "Comment 20 " not in second.text
    assert not second.has_link("More comments →")
    assert second.link("← First comments").path == page_url(post)


async def test_a_bad_cursor_is_a_422_page(client: httpx.AsyncClient, post: Post) -> None:
    response = await client.get(f"{page_url(post)}?cursor=nonsense")

    assert response.status_code == 422
    assert "The link to the next page: it is not a link this list gave out" in (
        read_page(response).text
    )


@pytest.mark.parametrize(
    ("viewer", "buttons"),
    [("reader", 1), ("author", 2), ("moderator", 2), ("other", 0)],
)
async def test_delete_buttons_for_who_may_delete(
    client: httpx.AsyncClient,
    session: AsyncSession,
    post: Post,
    author: User,
    reader: User,
    viewer: str,
    buttons: int,
) -> None:
    await make_comments(session, post, reader, 1)
    await make_comments(session, post, author, 1)
    users = {
        "reader": reader,
        "author": author,
        "moderator": await make_user(session, role="editor"),
        "other": await make_user(session),
    }
    await browser_login(client, users[viewer])

    page = await client.get(page_url(post))

    shown = read_page(page)
    # Each leads to a page that asks first (tests/comments/test_authorization.py).
    delete_links = [link for link in shown.links if "/comments/" in link.path]
    assert all(link.path.endswith("/delete") for link in delete_links)
    assert len(delete_links) == buttons
    # The post's own buttons: Edit and Delete for its author and for an editor.
    assert shown.has_link("Edit") == (viewer in ("author", "moderator"))
    assert shown.has_link("Delete") == (viewer in ("author", "moderator"))


async def test_lists_show_the_comment_count(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    await make_comments(session, post, reader, 3)

    for url in ("/", f"/users/{post.user_id}/posts"):
        page = read_page(await client.get(url))
        link = page.link(f"3 comments on “{post.title}”")
        assert link.href == f"{page_url(post)}#comments"


async def test_a_comment_past_the_first_page_lands_on_the_page_that_shows_it(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    await make_comments(session, post, reader, 20)
    await browser_login(client, reader)

    response = await submit(client, f"/posts/{post.id}/comments", {"body": "Twenty-first"})

    assert response.status_code == 303
    assert "?cursor=" in response.headers["location"]
    page = read_page(await client.get(response.headers["location"]))
    assert "Twenty-first" in page.text
    assert "21 comments" in page.text
    assert page.has_link("← First comments")


async def test_a_draft_shows_its_author_no_comments_and_no_form(
    client: httpx.AsyncClient, session: AsyncSession, author: User
) -> None:
    draft = Post(title="Unfinished", content="Later.", user_id=author.id, status="draft")
    session.add(draft)
    await session.commit()
    await browser_login(client, author)

    page = await client.get(f"/posts/{draft.id}/{draft.slug}")
    refused = await submit(client, f"/posts/{draft.id}/comments", {"body": "Note to self"})

    assert page.status_code == 200
    assert "comments" not in read_page(page).text.lower()
    assert refused.status_code == 404


async def test_a_comment_shown_before_shows_what_changed_and_each_viewer_their_buttons(
    client: httpx.AsyncClient, session: AsyncSession, post: Post, reader: User
) -> None:
    # A comment's text up to its buttons is rendered once and remembered
    # (fastblog.web.templating.card): any change, and what each viewer may do, must still show.
    await make_comments(session, post, reader, 1)
    name = reader.username
    first = read_page(await client.get(page_url(post)))
    assert first.has_link(name)
    assert not [link for link in first.links if "/comments/" in link.path]

    reader.username = "renamed"
    await session.commit()
    await browser_login(client, reader)
    again = read_page(await client.get(page_url(post)))

    assert again.has_link("renamed")
    assert not again.has_link(name)
    assert len([link for link in again.links if "/comments/" in link.path]) == 1
