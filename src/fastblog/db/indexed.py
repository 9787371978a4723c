"""A table read through one named index: SQLite's `INDEXED BY`, for Core statements.

SQLite's planner looks a row up by its INTEGER PRIMARY KEY whenever a join gives it the id,
even when an index on (id, …) holds every column the statement reads and the row does not
(posts' rows are ~4 KB, most of them on overflow pages, and the columns a search tests come
after the content). `INDEXED BY` makes the index a requirement, not a hint: the statement
fails to prepare if the index is missing or cannot serve it, so a plan cannot silently fall
back. SQLAlchemy's `with_hint` renders nothing on SQLite (its compiler has no table hints),
hence this small construct, written with the public compiler extension.
"""

from typing import Any

from sqlalchemy import Table, column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


class IndexedTable(TableClause):
    """A lightweight table (only the columns it names) that a FROM reads through `index`."""

    inherit_cache = True
    # Part of the statement's cache key, as the name is.
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (as SQLAlchemy declares it)
        *TableClause._traverse_internals,
        ("index", InternalTraversal.dp_string),
    ]

    def __init__(self, name: str, index: str, *columns: Any) -> None:
        super().__init__(name, *columns)
        self.index = index


def indexed_by(table: Table, index: str, *names: str) -> IndexedTable:
    """`table` with the columns `names` (their types kept), read through `index` on SQLite."""
    return IndexedTable(table.name, index, *(column(name, table.c[name].type) for name in names))


@compiles(IndexedTable, "sqlite")
def _indexed_by(element: IndexedTable, compiler: SQLCompiler, **kw: Any) -> str:
    rendered: str = compiler.visit_table(element, **kw)  # type: ignore[no-untyped-call]
    if not kw.get("asfrom"):
        return rendered
    return f"{rendered} INDEXED BY {compiler.preparer.quote(element.index)}"
