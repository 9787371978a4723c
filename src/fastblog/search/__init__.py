"""Full-text search of published posts: one service (fastblog.search.service), two engines
chosen by the database (SQLite FTS5, PostgreSQL full text; LIKE on a SQLite without FTS5),
and the query language readers know from web search (fastblog.search.query). See
docs/search.md."""
