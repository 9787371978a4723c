"""Helpers shared by both reports: tables, file names, and what the run ran on."""

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "bench" / "results"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub table that also reads well in a terminal: columns padded to one width."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def results_paths(
    kind: str, day: dt.date, variant: str = "", *, folder: Path = RESULTS_DIR
) -> tuple[Path, Path]:
    """bench/results/<kind>-<date>[-variant].md and the .png beside it; a second run of the
    day gets -2, a third -3 (a report is never overwritten: the day's figures are compared)."""
    stem = f"{kind}-{day.isoformat()}" + (f"-{variant}" if variant else "")
    name, run = stem, 1
    while (folder / f"{name}.md").exists():
        run += 1
        name = f"{stem}-{run}"
    return folder / f"{name}.md", folder / f"{name}.png"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            cwd=REPO_ROOT,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            cwd=REPO_ROOT,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" (src/ modified)" if dirty else "")


def run_metadata(tool: str) -> dict[str, str]:
    """What a reader needs to trust or reproduce the figures."""
    load = os.getloadavg()
    return {
        "commit": _git_commit(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()}",
        "load average at start": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "python": platform.python_version(),
        "server": (
            f"uvicorn {_version('uvicorn')} (uvloop {_version('uvloop')}, "
            f"httptools {_version('httptools')}), served by `fastblog serve` as `make run` does"
        ),
        "stack": (
            f"fastapi {_version('fastapi')}, starlette {_version('starlette')}, "
            f"pydantic {_version('pydantic')}, sqlalchemy {_version('sqlalchemy')}"
        ),
        "load generator": tool,
    }


def metadata_lines(meta: dict[str, str]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in meta.items())


def mebibytes(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"
