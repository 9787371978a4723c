"""Another git revision's `src/` beside this tree's, for the benchmarks that compare the two
(`--baseline REV`): exported once to a temporary folder and put first on PYTHONPATH of the
processes that measure it; this tree's venv, scripts and data serve both sides."""

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.live import REPO_ROOT


@contextmanager
def baseline_sources(revision: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A temporary folder holding `revision`'s `src/` (removed afterwards), and this process's
    environment with that `src/` first on PYTHONPATH (what PYTHONPATH held stays after it)."""
    with tempfile.TemporaryDirectory(prefix="fastblog-baseline-") as folder:
        archive = subprocess.run(
            ["git", "archive", revision, "src"], cwd=REPO_ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        paths = [f"{folder}/src", os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in paths if path)}
        yield Path(folder), env
