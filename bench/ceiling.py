"""The ceiling: the framework alone, returning the bytes of one real post.

Same Python, uvicorn and flags as the app; no database, no validation of a response
model, no serialization. Whatever the app does beyond this costs throughput, so the
app's requests/s divided by this app's is the share of the framework's ceiling it keeps.
"""

import os
from pathlib import Path

from fastapi import FastAPI, Response

BODY_FILE_ENV = "BENCH_CEILING_BODY_FILE"


def create_app() -> FastAPI:
    body = Path(os.environ[BODY_FILE_ENV]).read_bytes()
    app = FastAPI(openapi_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    # The same path and int parameter as the real route: parsing it is part of the floor.
    @app.get("/api/posts/{post_id}")
    async def one_post(post_id: int) -> Response:
        return Response(body, media_type="application/json")

    return app
