from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.models import Post
from tests.factories import make_posts, make_user
from tests.html import read_page
from tests.reliability.browser import browser_login

pytestmark = pytest.mark.anyio

NEWER = "← Newer posts"
OLDER = "Older posts →"


def post_titles(text: str, posts: list[Post]) -> list[str]:
    """The titles of `posts` that appear in `text`, in the order they appear."""
    shown = [post.title for post in posts if post.title in text]
    return sorted(shown, key=text.index)


@pytest.mark.parametrize("path", ["/", "/posts"])
async def test_home_shows_the_newest_posts_with_their_authors(
    client: httpx.AsyncClient, session: AsyncSession, path: str
) -> None:
    ada = await make_user(session, username="ada")
    bob = await make_user(session, username="bob")
    start = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    posts = await make_posts(session, ada, 2, start=start)
    posts += await make_posts(session, bob, 1, start=start + timedelta(hours=1))

    response = await client.get(path)

    assert response.status_code == 200
    page = read_page(response)
    assert "Latest posts" in page.text
    assert post_titles(page.text, posts) == ["Post 1 by bob", "Post 2 by ada", "Post 1 by ada"]
    for post in posts:
        assert page.link(post.title).path == f"/posts/{post.id}/{post.slug}"
        assert post.excerpt in page.text
    assert [link.path for link in page.links if link.text == "ada"] == [
        f"/users/{ada.id}/posts"
    ] * 2
    assert page.link("bob").path == f"/users/{bob.id}/posts"
    assert page.text.count("March 3, 2026") == 3
    assert page.images.count("/static/img/default-avatar.png") == 3
    assert not page.has_link(NEWER)
    assert not page.has_link(OLDER)


async def test_a_card_shown_before_shows_what_changed_and_each_viewer_their_links(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # A card up to its Edit/Delete links is rendered once and remembered
    # (fastblog.web.templating.card): any change, and what each viewer may do, must still show.
    ada = await make_user(session, username="ada")
    [post] = await make_posts(session, ada, 1)
    first = read_page(await client.get("/"))
    assert first.has_link(post.title)
    assert not first.has_link(f"Edit “{post.title}”")

    post.title = "A better title"  # no other column changes
    ada.username = "ada lovelace"
    await session.commit()
    await browser_login(client, ada)
    again = read_page(await client.get("/"))

    assert again.has_link("A better title")
    assert again.has_link("ada lovelace")
    assert again.has_link("Edit “A better title”")


async def test_home_without_posts_invites_the_first(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    page = read_page(response)
    assert "No posts yet" in page.text
    assert "This blog is waiting for its first post." in page.text
    assert page.link("Register to write the first post").path == "/register"
    assert httpx.URL(page.link("Log in to write").href).params["next"] == "/posts/new"
    assert not page.has_link(OLDER)


async def test_home_without_posts_invites_a_logged_in_reader_to_write(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await browser_login(client, await make_user(session))

    page = read_page(await client.get("/"))

    assert page.link("Write the first post").path == "/posts/new"
    assert not page.has_link("Register to write the first post")


async def test_home_pages_ten_posts_at_a_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="ada")
    posts = await make_posts(session, author, 15)

    first = read_page(await client.get("/"))

    assert post_titles(first.text, posts) == [f"Post {n} by ada" for n in range(15, 5, -1)]
    assert "Page 1 of 2" in first.text
    assert not first.has_link(NEWER)

    response = await client.get(httpx.URL("http://testserver/").join(first.link(OLDER).href))
    assert response.status_code == 200
    second = read_page(response)
    assert post_titles(second.text, posts) == [f"Post {n} by ada" for n in range(5, 0, -1)]
    assert "Page 2 of 2" in second.text
    assert not second.has_link(OLDER)

    back = await client.get(response.url.join(second.link(NEWER).href))
    assert post_titles(read_page(back).text, posts) == post_titles(first.text, posts)


async def test_a_middle_page_links_both_ways(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_posts(session, await make_user(session), 25)

    page = read_page(await client.get("/posts", params={"page": 2}))

    assert "Page 2 of 3" in page.text
    assert page.link(NEWER).href == "/posts"  # the first page, as it is
    older = httpx.URL(page.link(OLDER).href)
    assert older.path == "/posts"
    assert older.params["page"] == "3"
    assert older.params["cursor"]


@pytest.mark.parametrize("path", ["/", "/posts"])
async def test_a_page_number_past_the_last_page_is_404_naming_the_last(
    client: httpx.AsyncClient, session: AsyncSession, path: str
) -> None:
    await make_posts(session, await make_user(session), 25)  # 3 pages

    last = await client.get(path, params={"page": 3})
    past = await client.get(path, params={"page": 4})
    far = await client.get(path, params={"page": 99999})

    assert last.status_code == 200
    assert "Page 3 of 3" in read_page(last).text
    for response, number in ((past, 4), (far, 99999)):
        assert response.status_code == 404
        text = read_page(response).text
        assert f"There is no page {number}: the last page is 3." in text
        assert "up to 101" not in text


async def test_page_one_of_an_empty_list_is_not_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/", params={"page": 1})

    assert response.status_code == 200
    assert "No posts yet" in read_page(response).text


async def test_a_page_past_the_offset_bound_of_a_long_list_points_to_the_links(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_posts(session, await make_user(session), 1_015)  # 102 pages of 10

    response = await client.get("/", params={"page": 102})

    assert response.status_code == 404
    assert "Page numbers go up to 101" in read_page(response).text


@pytest.mark.parametrize("page", ["0", "-1", "two"])
async def test_a_bad_page_number_is_an_html_422(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get("/", params={"page": page})

    assert response.status_code == 422
    assert "The page number: must be" in read_page(response).text


async def test_post_page_shows_the_post(client: httpx.AsyncClient, session: AsyncSession) -> None:
    author = await make_user(session, username="ada")
    [post] = await make_posts(session, author, 1)

    response = await client.get(f"/posts/{post.id}/{post.slug}")

    assert response.status_code == 200
    page = read_page(response)
    assert page.title.startswith(post.title)
    assert post.title in page.text
    assert post.content in page.text
    assert "March 3, 2026" in page.text
    assert page.link("ada").path == f"/users/{author.id}/posts"
    assert page.link("← All posts").path == "/"


async def test_missing_post_page_is_an_html_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/posts/999")

    assert response.status_code == 404
    page = read_page(response)
    assert "Post not found" in page.text
    assert page.link("Back to the home page").path == "/"


@pytest.mark.parametrize("post_id", ["abc", "0"])
async def test_bad_post_id_is_an_html_422(client: httpx.AsyncClient, post_id: str) -> None:
    response = await client.get(f"/posts/{post_id}")

    assert response.status_code == 422
    assert "The post number in the address: must be" in read_page(response).text


SCRIPT = '<script>alert("owned")</script>'


async def test_user_written_text_is_escaped_everywhere(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="<b>eve</b>")
    post = Post(title=SCRIPT, content="<img src=x onerror=alert(1)>", user_id=author.id)
    session.add(post)
    await session.commit()

    for path in ("/", f"/posts/{post.id}", f"/users/{author.id}/posts"):
        response = await client.get(path, follow_redirects=True)
        assert response.status_code == 200
        html = response.text
        assert "<script>" not in html, path
        assert "<img src=x" not in html, path
        assert "<b>eve</b>" not in html, path
        assert "&lt;b&gt;eve&lt;/b&gt;" in html, path
        assert "&lt;script&gt;" in html, path
        page = read_page(response)
        assert SCRIPT in page.text, path
        assert "<b>eve</b>" in page.text, path
