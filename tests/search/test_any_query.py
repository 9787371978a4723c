"""Property: whatever a reader types into the search box, the answer is a page of results (or
a 422 for a query over the length limit), never a 500 and never an engine's syntax error."""

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.search.query import MAX_QUERY_CHARS
from tests.factories import make_user
from tests.search.helpers import write

pytestmark = pytest.mark.anyio

# What FTS5 and tsquery read as syntax, and text that trips up encodings and parsers.
SPECIAL = st.sampled_from(
    [
        *('"', "'", "*", "-", "+", "^", ":", "(", ")", "{", "}", "|", "&", "!", "<->", "\\"),
        *("NEAR(", "NEAR/2", "AND", "OR", "NOT", "or", "-or", "title:", "body_text:", "rank"),
        *("%", "_", "\x00", "\x1f", "\u202e", "\u200f", "\ufeff", "\ue000", "\U0010ffff"),
        *("😀", "👩‍👩‍👧", "שלום", "مرحبا", "日本語", "e\u0301", "\u0301", "ǅ", "ß", "İ"),
        *("rhubarb", "crumble", "custard"),
    ]
)
QUERIES = st.one_of(
    st.lists(st.one_of(SPECIAL, st.text(max_size=12)), max_size=16).map(" ".join),
    st.lists(SPECIAL, max_size=40).map("".join),
    st.text(max_size=MAX_QUERY_CHARS + 20),
)


@pytest.fixture
async def some_posts(client: httpx.AsyncClient, session: AsyncSession) -> None:
    author = await make_user(session)
    await write(client, author, title="Rhubarb crumble", content="With *custard*.", tags=["pud"])
    await write(client, author, title="שלום", content="日本語 and مرحبا, e\u0301 ß.")


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=QUERIES, tag=st.one_of(st.none(), st.just("pud"), st.text(max_size=8)))
async def test_any_query_gets_results_or_a_422(
    client: httpx.AsyncClient, some_posts: None, q: str, tag: str | None
) -> None:
    params = {"q": q, **({"tag": tag} if tag is not None else {})}
    for path in ("/api/search", "/search"):
        response = await client.get(path, params=params)
        if len(q) > MAX_QUERY_CHARS:
            assert response.status_code == 422, response.text
        else:
            assert response.status_code == 200, (path, q, response.text[:500])
