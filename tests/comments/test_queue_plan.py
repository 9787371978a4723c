"""The moderation queue reads only the waiting comments: the partial index on (created_at,
id) WHERE status = 'pending' serves its order and its cursor, on both databases."""

from datetime import UTC, datetime
from typing import Any

import pytest

from fastblog.comments import queries
from fastblog.db.compiled import compile_query
from fastblog.resources import Resources

# Plans depend on the tables' pages: each test starts from new, empty tables.
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("fresh_tables")]

VALUES = {"limit": 21, "after_at": datetime(2026, 4, 1, tzinfo=UTC), "after_id": 7}
INDEX = "ix_comments_pending_created_at_id"


async def plan(resources: Resources, statement: Any) -> str:
    engine = resources.database.engine
    query = compile_query(statement, engine.dialect)
    parameters = query.parameters(VALUES)
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {query.sql}", parameters)
            return "\n".join(row[3] for row in rows)
        # Sequential scans and sorts priced out: if the plan still scans or sorts, the partial
        # index cannot serve the statement.
        for setting in ("enable_seqscan = off", "enable_sort = off"):
            await connection.exec_driver_sql(f"SET {setting}")
        rows = await connection.exec_driver_sql(f"EXPLAIN {query.sql}", parameters)
        return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize("after", [False, True], ids=["first page", "after a cursor"])
async def test_the_queue_is_served_by_the_partial_index(
    resources: Resources, client: object, after: bool
) -> None:
    text = await plan(resources, queries.PENDING_PAGES[after])

    assert INDEX in text, text
    assert "TEMP B-TREE" not in text, text
    assert "Sort" not in text, text
    assert "Seq Scan on comments" not in text, text
