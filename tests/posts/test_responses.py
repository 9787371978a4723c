"""The posts API's busiest reads write their rows straight to JSON (fastblog.posts.responses)
rather than through their response models: the bytes must be the ones the models would
give. A response the model gives back unchanged (every field there, in the model's order,
typed as the model types it, `scheduled` and `image_path` as the model works them out) is one
FastAPI's validation and dump would have written."""

from datetime import timedelta

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.accounts.schemas import UserPublic
from fastblog.db import utcnow
from fastblog.posts.models import Post
from fastblog.posts.responses import AuthorJSON, PostJSON, PostPageJSON
from fastblog.posts.schemas import PostPage, PostPublic, TagList
from tests.factories import api_create_post, login, make_user

pytestmark = pytest.mark.anyio


def as_the_model_writes_it(model: type[BaseModel], response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    again = model.model_validate_json(response.content).model_dump_json().encode()
    assert response.content == again


async def test_lists_and_posts_are_written_as_their_models_would_write_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="Zoë <b>", image_file="4f1c2a9b7d3e.jpg")
    reader = await make_user(session, username="reader")
    written = [
        await api_create_post(
            client,
            author,
            title=f'"Quoted" ünïcode ✓ {n}',
            content=f"Line one\n\n**{n}** & <em>more</em>",
            tags=["python", "Async Web"],
        )
        for n in range(3)
    ]
    ids = [response.json()["id"] for response in written]
    await session.execute(
        update(Post)
        .where(Post.id == ids[0])
        .values(feature_image="/media/pictures/4f1c2a9b7d3e5f60a1b2.jpg", feature_image_alt="A")
    )
    await session.commit()
    scheduled = await api_create_post(
        client, author, published_at=(utcnow() + timedelta(days=2)).isoformat()
    )
    in_review = await api_create_post(client, author, status="review")
    as_author, as_reader = await login(client, author), await login(client, reader)
    await client.post(f"/api/posts/{ids[1]}/like", headers=as_reader)

    for headers in ({}, as_reader, as_author):
        for query in ("", "?limit=2", "?limit=20&content=true", "?tag=nothing-here"):
            as_the_model_writes_it(
                PostPage, await client.get(f"/api/posts{query}", headers=headers)
            )
            path = f"/api/users/{author.id}/posts{query}"
            as_the_model_writes_it(PostPage, await client.get(path, headers=headers))
        for post_id in ids:
            as_the_model_writes_it(
                PostPublic, await client.get(f"/api/posts/{post_id}", headers=headers)
            )
    as_the_model_writes_it(TagList, await client.get("/api/tags"))
    own = (await client.get(f"/api/posts/{scheduled.json()['id']}", headers=as_author)).json()
    assert own["status"] == "scheduled"
    as_the_model_writes_it(
        PostPublic, await client.get(f"/api/posts/{in_review.json()['id']}", headers=as_author)
    )
    liked = (await client.get("/api/posts", headers=as_reader)).json()["posts"]
    assert [post["liked"] for post in liked] == [False, True, False]
    assert liked[0]["author"]["image_path"] == "/media/profile_pics/4f1c2a9b7d3e.jpg"


def test_the_json_shapes_have_the_models_fields_in_their_order() -> None:
    author = [*UserPublic.model_fields, *UserPublic.model_computed_fields]
    assert list(AuthorJSON.__annotations__) == author
    assert list(PostJSON.__annotations__) == list(PostPublic.model_fields)
    assert list(PostPageJSON.__annotations__) == list(PostPage.model_fields)
