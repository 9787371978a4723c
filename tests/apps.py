"""fastblog's apps as the tests create them: with one process pool for every app of the test
process.

A test process creates hundreds of apps (one per database and per set of settings), and an
app's own pool would start a worker interpreter the first time the app renders a long post,
resizes a picture or makes a federation key pair: ~1.5 CPU-s and seconds of waiting each
time. The pool's work is pure functions of their arguments, so one pool serves every app.
"""

from concurrent.futures import ProcessPoolExecutor
from functools import cache

from fastapi import FastAPI

from fastblog import main
from fastblog.config import Settings


@cache
def shared_process_pool() -> ProcessPoolExecutor:
    """One worker, as the tests' settings ask (process_pool_workers=1); started on first use,
    stopped when the test process exits (concurrent.futures joins it at exit)."""
    return main.create_process_pool(workers=1)


def create_app(settings: Settings) -> FastAPI:
    return main.create_app(settings, process_pool=shared_process_pool())
