"""An uploaded picture in a post's Markdown becomes a responsive <figure>: its variants in
srcset, its size, its alt text and caption; every picture but the first loads lazily. Another
site's picture is a link unless EXTERNAL_IMAGES=allow."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.posts.markdown import Figure, render
from tests.factories import api_create_post, make_user
from tests.media.helpers import elements, photo, upload

pytestmark = pytest.mark.anyio


async def uploaded(app: FastAPI, client: httpx.AsyncClient, author: Any, **kw: Any) -> Any:
    response = await upload(app, client, author, photo((1200, 800)), **kw)
    assert response.status_code == 201, response.text
    return response.json()


async def test_uploaded_pictures_are_figures_with_variants_and_only_the_first_is_eager(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    first = await uploaded(app, client, author, alt="Given at upload")
    second_response = await upload(
        app, client, author, photo((700, 700), "PNG"), name="b.png", alt=""
    )
    second = second_response.json()
    content = (
        "The start.\n\n"
        f'![A red and blue flag]({first["url"]} "Our flag, <in> the wind")\n\n'
        "Between them.\n\n"
        f"![]({second['url']})\n"
    )

    created = await api_create_post(client, author, title="Flags", content=content)
    assert created.status_code == 201, created.text
    page = await client.get(f"/posts/{created.json()['id']}/flags")

    found = elements(page.text)
    pictures = [img for img in found.images if str(img["src"]).startswith("/media/pictures/")]
    assert len(pictures) == 2
    one, two = pictures
    assert one["src"] == first["url"]
    assert one["alt"] == "A red and blue flag"  # the post's words first
    assert (one["width"], one["height"]) == ("1200", "800")
    assert one["srcset"] == ", ".join(f"{s['url']} {s['width']}w" for s in first["srcset"])
    assert one["sizes"]
    assert "loading" not in one  # the first picture is likely on screen: not lazy
    assert one["decoding"] == "async"
    assert two["alt"] == ""  # no alt in the post and none at upload: decorative
    assert two["loading"] == "lazy"
    assert (two["width"], two["height"]) == ("700", "700")
    assert found.captions == ["Our flag, <in> the wind"]
    assert all(parents[-1] == "figure" for parents in found.parents[-2:])
    assert "p" not in found.parents[-1]  # a <figure> is never inside a <p>


async def test_a_picture_with_no_alt_in_the_post_takes_the_alt_given_at_upload(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    picture = await uploaded(app, client, author, alt="A flag on a pole")

    created = await api_create_post(client, author, content=f"![]({picture['url']})")

    (image,) = elements(created.json()["content_html"]).images
    assert image["alt"] == "A flag on a pole"


FIGURE = Figure(src="/media/pictures/a.jpg", width=960, height=640)


@pytest.mark.parametrize("mode", ["link", "allow"])
def test_an_http_picture_of_another_site_is_always_a_link(mode: Any) -> None:
    found = elements(render("![A cat](http://cats.example/cat.jpg)", external_images=mode).html)

    assert found.images == []
    assert found.links[0]["href"] == "http://cats.example/cat.jpg"


def test_by_default_a_picture_of_another_site_is_a_link_to_it() -> None:
    found = elements(render('![A cat](https://cats.example/cat.jpg "Tom")').html)

    assert found.images == []
    assert found.links[0]["href"] == "https://cats.example/cat.jpg"


def test_with_external_images_allowed_an_https_picture_is_shown() -> None:
    html = render('![A cat](https://cats.example/cat.jpg "Tom")', external_images="allow").html

    found = elements(html)
    assert [img["src"] for img in found.images] == ["https://cats.example/cat.jpg"]
    assert found.captions == ["Tom"]


def test_the_renderer_uses_only_the_pictures_it_is_given() -> None:
    source = "![x](/media/pictures/a.jpg)"

    assert "width" not in elements(render(source).html).images[0]
    given = elements(render(source, pictures={FIGURE.src: FIGURE}).html).images[0]
    assert (given["width"], given["height"]) == ("960", "640")


def test_an_uploaded_picture_named_with_a_query_is_still_its_figure() -> None:
    """`/media/pictures/a.jpg?v=2` is the same upload: its size, and its address without the
    query (the one its variants were made for)."""
    source = "![x](/media/pictures/a.jpg?v=2)"

    image = elements(render(source, pictures={FIGURE.src: FIGURE}).html).images[0]
    assert (image["src"], image["width"], image["height"]) == (FIGURE.src, "960", "640")
