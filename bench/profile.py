"""Profile one route under load with py-spy and summarise where the CPU goes.

    .venv/bin/pip install py-spy      # not a project dependency: only this script needs it
    .venv/bin/python -m bench.profile [path]       # default /api/posts/{id}

Records with --gil: only the thread holding the GIL is sampled, which on a server bound
by one core is exactly where its time goes (the event loop, or aiosqlite's thread when
it runs Python or SQLite under the GIL). Writes the collapsed stacks (for speedscope or
flamegraph.pl) to bench/results/ and prints the share of samples per layer.
"""

import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.db import fresh_database, migrate_and_seed, table_facts
from bench.load import LoadSettings, Scenario, run_load
from bench.report import RESULTS_DIR
from bench.server import install_cleanup, serving

# The first matching rule, from the innermost frame outwards, names a sample's layer.
LAYERS = (
    # aiosqlite's package (not SQLAlchemy's dialect module of the same name): its worker
    # thread, and on the loop the queue hand-off and the resume of each awaited future.
    ("aiosqlite: thread round trips", r"/aiosqlite/|/sqlite3/"),
    ("asyncpg", r"/asyncpg/"),
    ("SQLAlchemy greenlet bridge", r"greenlet|sqlalchemy/util/_?concurrency"),
    ("SQLAlchemy ORM (session, loading)", r"sqlalchemy/orm/"),
    ("SQLAlchemy engine, pool, dialect", r"sqlalchemy/(engine|pool|dialects|connectors|ext)/"),
    ("SQLAlchemy SQL compile, cache keys", r"sqlalchemy/(sql|util)/"),
    ("pydantic", r"pydantic"),
    ("jinja2", r"jinja2|markupsafe"),
    ("fastapi (dependencies, validation, serialization)", r"fastapi/"),
    ("starlette (routing, middleware, responses)", r"starlette/"),
    ("uvicorn + httptools", r"uvicorn/|httptools"),
    ("asyncio / uvloop", r"asyncio/|uvloop"),
    ("fastblog", r"fastblog/"),
)


def layer_of(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        for name, pattern in LAYERS:
            if re.search(pattern, frame):
                return name
    return "other (native frames, stdlib)"


def summarise(collapsed: str) -> list[tuple[str, float]]:
    """Share of samples per layer, from py-spy's raw (collapsed) output."""
    counts: collections.Counter[str] = collections.Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            counts[layer_of(stack)] += int(count)
    total = sum(counts.values()) or 1
    return [(layer, n / total) for layer, n in counts.most_common()]


def main() -> None:
    install_cleanup()
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    path = sys.argv[1] if len(sys.argv) > 1 else "/api/posts/{id}"
    seconds = float(os.environ.get("BENCH_SECONDS", "15"))
    out = RESULTS_DIR / "profile-api-post.collapsed.txt"
    with fresh_database(os.environ.get("DATABASE_URL")) as url, tempfile.TemporaryDirectory() as s:
        migrate_and_seed(url, users=100, posts=10_000)
        facts = table_facts(url)
        ids = range(facts["first_post"], facts["last_post"] + 1)
        env = {"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "MEDIA_DIR": f"{s}/media"}
        with serving("fastblog.main:create_app", env=env) as app:
            assert app.process is not None
            scenario = Scenario("profiled", path, ids=ids)
            run_load(app.base_url, scenario, LoadSettings(64, 2))  # warm-up
            record = [
                py_spy,
                "record",
                *os.environ.get("PYSPY_FLAGS", "--gil").split(),
                "--rate=200",
                "--format=raw",
            ]
            record += [f"--duration={int(seconds)}", f"--output={out}"]
            record += [f"--pid={app.process.pid}"]
            load = threading.Thread(
                target=run_load, args=(app.base_url, scenario, LoadSettings(64, seconds + 1))
            )
            load.start()
            subprocess.run(record, check=True, timeout=seconds + 60, capture_output=True)
            load.join()
    for layer, share in summarise(out.read_text()):
        print(f"{share:6.1%}  {layer}")
    print(f"\nCollapsed stacks: {out}")


if __name__ == "__main__":
    main()
