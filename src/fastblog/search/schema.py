"""The search index's tables, columns and triggers, for each database (migration 0009 makes
them; fastblog.search.index drops and remakes the triggers around a bulk load).

Both databases index three texts of a post: its title, `posts.body_text` (the content's text
without Markdown syntax, written by the app with content_html) and `posts.tag_names` (its tags,
space-separated, kept by triggers on post_tags so any writer keeps it right).

- SQLite: an FTS5 table over posts (external content: it stores only the index, the text stays
  in posts), kept by triggers on posts; the porter stemmer over unicode61 ("posts" finds
  "post"; accents are folded).
- PostgreSQL: a generated tsvector column (title weight A, tags B, text D) with a GIN index,
  and a second one of the title and tags alone that the ranking reads (not indexed); the
  English configuration (stems, drops stop words).
"""

import sqlite3
from collections.abc import Mapping
from functools import cache

FTS_TABLE = "posts_search"
VECTOR_COLUMN = "search_vector"
# What PostgreSQL's ranking reads (migration 0024): the title's lexemes (weight A) and the
# tags' (B), generated from them, a few words kept in the row (fastblog.search.postgres).
TIER_VECTOR_COLUMN = "tier_vector"
VECTOR_INDEX = "ix_posts_search_vector"
TS_CONFIG = "english"

# -- SQLite ------------------------------------------------------------------------------

SQLITE_FTS_TABLE = f"""
CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
  title, body_text, tag_names,
  content='posts', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2'
)
"""


def _fts_triggers(table: str, name: str, columns: tuple[str, ...]) -> dict[str, str]:
    """The triggers on posts that keep an external-content FTS5 table (`table`, over
    `columns`) in step: a row added, forgotten, and both when an indexed text changes
    (publishing or scheduling re-indexes nothing). FTS5 forgets a row given the very values
    it indexed, which OLD holds."""
    listed = ", ".join(columns)
    add = (
        f"INSERT INTO {table} (rowid, {listed}) "
        f"VALUES (NEW.id, {', '.join(f'NEW.{column}' for column in columns)});"
    )
    forget = (
        f"INSERT INTO {table} ({table}, rowid, {listed}) "
        f"VALUES ('delete', OLD.id, {', '.join(f'OLD.{column}' for column in columns)});"
    )
    return {
        f"{name}_on_insert": f"""
    CREATE TRIGGER {name}_on_insert AFTER INSERT ON posts BEGIN
      {add}
    END
    """,
        f"{name}_on_delete": f"""
    CREATE TRIGGER {name}_on_delete AFTER DELETE ON posts BEGIN
      {forget}
    END
    """,
        f"{name}_on_update": f"""
    CREATE TRIGGER {name}_on_update AFTER UPDATE OF {listed} ON posts BEGIN
      {forget}
      {add}
    END
    """,
    }


_SQLITE_TAG_NAMES = (
    "SELECT group_concat(tags.name, ' ') FROM post_tags JOIN tags ON tags.id = post_tags.tag_id "
    "WHERE post_tags.post_id = {post}"
)
SQLITE_TRIGGERS = {
    **_fts_triggers(FTS_TABLE, "posts_searched", ("title", "body_text", "tag_names")),
    "post_tags_named_on_insert": f"""
    CREATE TRIGGER post_tags_named_on_insert AFTER INSERT ON post_tags BEGIN
      UPDATE posts SET tag_names = ({_SQLITE_TAG_NAMES.format(post="NEW.post_id")})
      WHERE id = NEW.post_id;
    END
    """,
    "post_tags_named_on_delete": f"""
    CREATE TRIGGER post_tags_named_on_delete AFTER DELETE ON post_tags BEGIN
      UPDATE posts SET tag_names = coalesce(({_SQLITE_TAG_NAMES.format(post="OLD.post_id")}), '')
      WHERE id = OLD.post_id;
    END
    """,
}
# The tiers' own index (migration 0026): the title and the tags alone, for the ranking's
# column-filtered queries (fastblog.search.fts5). Asked of posts_search, `{title} : "a b"`
# walks both words' whole lists, text included (1.5-1.9 ms each for a phrase of two words in
# 2-4% of a million posts, where only 74 posts match); here, only the titles' and tags'
# occurrences (0.1 ms). No column sizes: nothing reads them (no bm25).
TIERS_TABLE = "posts_tiers"
SQLITE_TIERS_TABLE = f"""
CREATE VIRTUAL TABLE {TIERS_TABLE} USING fts5(
  title, tag_names,
  content='posts', content_rowid='id', columnsize=0,
  tokenize='porter unicode61 remove_diacritics 2'
)
"""
SQLITE_TIERS_TRIGGERS = _fts_triggers(TIERS_TABLE, "posts_tiered", ("title", "tag_names"))
SQLITE_TIERS_REBUILD = f"INSERT INTO {TIERS_TABLE} ({TIERS_TABLE}) VALUES ('rebuild')"

# FTS5 merges a level's segments into one on the next level once `automerge` of them are on
# disk (4 by default). A rebuilt index is one segment on a low level (the rebuild made few
# levels), so new posts' segments reach it soon: at a million posts, about the 8,000th post
# written after a rebuild started a merge of the whole index, spread over the next ~20,000
# writes, each costing ~0.7 ms instead of ~0.25 (measured, autocommit inserts). At 8, each
# level holds up to 7 before merging up and reaching that segment takes millions of posts;
# a search reads a few more small segments (migration 0028; docs/search.md).
FTS_AUTOMERGE = 8

# What a search's window tests of each match (visibility, the author filter) and the date it
# ranks by, in an index keyed by the post's id, so the walk of the matches never reads a
# post's row (~4 KB, those columns after the content, on overflow pages): fastblog.search.fts5
# reads it with INDEXED BY (the planner prefers the row by its primary key). Migration 0025.
SQLITE_WINDOW_INDEX = "ix_posts_id_status_published_at_user_id"
SQLITE_WINDOW_COLUMNS = ("id", "status", "published_at", "user_id")
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')"
SQLITE_TAG_NAMES_FIXED = f"""
UPDATE posts SET tag_names = names.tag_names
FROM (
  SELECT posts.id AS post_id,
         coalesce(({_SQLITE_TAG_NAMES.format(post="posts.id")}), '') AS tag_names
  FROM posts
) AS names
WHERE posts.id = names.post_id AND posts.tag_names IS NOT names.tag_names
"""

# -- PostgreSQL --------------------------------------------------------------------------

# Concatenated tsvectors continue each other's positions, so "a phrase" could match the
# title's last word and the text's first. A gap between the parts (a lexeme no query can
# hold, one position further on) keeps phrases inside one part, as in FTS5's columns.
# (Every statement here runs as a SQLAlchemy text(): "\\:" is how it writes a bare colon.)
_GAP = "'§\\:2'::tsvector"
POSTGRES_VECTOR = f"""
ALTER TABLE posts ADD COLUMN {VECTOR_COLUMN} tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('{TS_CONFIG}'::regconfig, title), 'A') || {_GAP}
  || setweight(to_tsvector('{TS_CONFIG}'::regconfig, tag_names), 'B') || {_GAP}
  || setweight(to_tsvector('{TS_CONFIG}'::regconfig, body_text), 'D')
) STORED
"""
# The GIN index has two keys (btree_gin, migration 0021): the vector's lexemes and the post's
# id bucket, so that "this word among the newest posts" is answered by the index alone
# (fastblog.search.postgres). Queries must write the bucket exactly so: `posts.id / 8192`,
# compared with a bigint.
BUCKET_POSTS = 8192
# GIN's fast update keeps new posts' entries in a pending list that every search reads whole,
# until the list outgrows gin_pending_list_limit (4 MB by default: ~2,000 posts of the seed's
# kind, and autovacuum clears it only after a fifth of the table is new). At a million posts
# 4,000 new ones made a rare word's search ~2x and a phrase's ~2x slower. At 128 kB (16 pages,
# ~60 posts) the insert that overflows it merges the list: ~0.2 ms more per post written, a
# bounded read for every search (migration 0027; docs/search.md).
PENDING_LIST_KB = 128
POSTGRES_VECTOR_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON posts "
    f"USING gin ({VECTOR_COLUMN}, (id / {BUCKET_POSTS})) "
    f"WITH (gin_pending_list_limit = {PENDING_LIST_KB})"
)
_POSTGRES_TAG_NAMES = (
    "coalesce((SELECT string_agg(tags.name, ' ' ORDER BY tags.name) FROM post_tags "
    "JOIN tags ON tags.id = post_tags.tag_id WHERE post_tags.post_id = posts.id), '')"
)
POSTGRES_TAG_NAMES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION posts_tag_names_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- One UPDATE per statement, however many tags it added or removed (posts in id order).
  UPDATE posts SET tag_names = {_POSTGRES_TAG_NAMES}
  WHERE posts.id IN (SELECT DISTINCT post_id FROM changed);
  RETURN NULL;
END $$
"""
POSTGRES_TRIGGERS = {
    "post_tags_named_on_insert": """
    CREATE TRIGGER post_tags_named_on_insert AFTER INSERT ON post_tags
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION posts_tag_names_change()
    """,
    "post_tags_named_on_delete": """
    CREATE TRIGGER post_tags_named_on_delete AFTER DELETE ON post_tags
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
    EXECUTE FUNCTION posts_tag_names_change()
    """,
}
POSTGRES_TAG_NAMES_FIXED = f"""
UPDATE posts SET tag_names = {_POSTGRES_TAG_NAMES}
WHERE tag_names IS DISTINCT FROM {_POSTGRES_TAG_NAMES}
"""


def drop_trigger(name: str, *, sqlite: bool) -> str:
    table = "posts" if name.startswith("posts_") else "post_tags"
    return f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}")


@cache
def fts5_available() -> bool:
    """Whether this Python's SQLite has FTS5 (it is the library aiosqlite uses too)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()
    return True


def is_search_index(name: str | None, kind: str, parents: Mapping[str, str | None]) -> bool:
    """Whether a table or column is the search index's (for Alembic's comparisons: the
    models do not describe an FTS5 table or a dialect-specific generated column)."""
    if kind == "table":
        return bool(name) and any(
            name == table or str(name).startswith(f"{table}_") for table in (FTS_TABLE, TIERS_TABLE)
        )
    if kind == "index":
        return name in (VECTOR_INDEX, SQLITE_WINDOW_INDEX)
    return (
        kind == "column"
        and name in (VECTOR_COLUMN, TIER_VECTOR_COLUMN)
        and parents.get("table_name") == "posts"
    )
