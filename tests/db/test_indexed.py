"""A table read through a named index (fastblog.db.indexed): SQLite plans the join through the
index, where it would otherwise look each row up by its primary key; other databases get the
plain table."""

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Select, String, Table, TableClause, select
from sqlalchemy.dialects import postgresql, sqlite

from fastblog.db.indexed import indexed_by

METADATA = MetaData()
ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("body", String),
    Column("state", String),
)
WANTED = Table("wanted", METADATA, Column("item_id", Integer))
INDEX = "ix_items_id_state"


def plan(tmp_path: Path, statement: Select[Any]) -> str:
    sql = str(statement.compile(dialect=sqlite.dialect()))
    connection = sqlite3.connect(tmp_path / "items.db")
    try:
        connection.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, body, state)")
        connection.execute("CREATE TABLE IF NOT EXISTS wanted (item_id INTEGER)")
        connection.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON items (id, state)")
        rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", ("open",)).fetchall()
    finally:
        connection.close()
    return "\n".join(row[3] for row in rows)


def states(items: TableClause) -> Select[Any]:
    return (
        select(items.c.state)
        .select_from(WANTED)
        .join(items, items.c.id == WANTED.c.item_id)
        .where(items.c.state == "open")
    )


def test_sqlite_reads_the_named_index_instead_of_the_rows(tmp_path: Path) -> None:
    assert "USING INTEGER PRIMARY KEY" in plan(tmp_path, states(ITEMS))

    text = plan(tmp_path, states(indexed_by(ITEMS, INDEX, "id", "state")))

    assert f"SEARCH items USING COVERING INDEX {INDEX} (id=?" in text, text


def test_other_databases_read_the_plain_table() -> None:
    statement = states(indexed_by(ITEMS, INDEX, "id", "state"))

    sql = str(statement.compile(dialect=postgresql.dialect()))

    assert "INDEXED BY" not in sql
    assert "FROM wanted JOIN items ON" in sql
