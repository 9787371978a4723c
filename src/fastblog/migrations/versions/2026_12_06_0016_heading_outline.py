"""heading outline: stored posts and pages numbered as the renderer numbers headings now

The renderer put every heading one level below the author's (`##` → h3, so a post written
with `##` skipped h2); it now starts the body's outline at h2 and skips no level
(fastblog.posts.markdown.Outline). The HTML already stored is renumbered in place with
renumber_headings, not rendered again: posts from before Markdown were rendered with their
line breaks kept (0006), which a new render would lose. Only rows holding a heading are read,
in batches by id. Downgrade leaves the HTML as it is: both numberings are valid HTML.

Revision ID: 2f685ec92576
Revises: 7c3b9d15e6a2
Create Date: 2026-12-06 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from fastblog.posts.markdown import renumber_headings

revision: str = "2f685ec92576"
down_revision: str | None = "7c3b9d15e6a2"  # comment approval and profiles (0015)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500


def _renumber(table_name: str) -> None:
    bind = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.BigInteger()), sa.column("content_html"))
    update = (
        table.update()
        .where(table.c.id == sa.bindparam("row_id"))
        .values(content_html=sa.bindparam("html"))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.id, table.c.content_html)
            .where(table.c.id > last, table.c.content_html.like("%</h_>%"))
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        changed = [
            {"row_id": row_id, "html": renumbered}
            for row_id, html in rows
            if (renumbered := renumber_headings(html)) != html
        ]
        if changed:
            bind.execute(update, changed)
        last = rows[-1][0]


def upgrade() -> None:
    _renumber("posts")
    _renumber("pages")


def downgrade() -> None:
    pass
