"""fastblog: an async-first blog on FastAPI and async SQLAlchemy."""
