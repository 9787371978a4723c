"""Another git revision's `src/` beside this tree's, for the benchmarks that compare the two
(`--baseline REV`): exported once to a temporary folder and put first on PYTHONPATH of the
processes that measure it; this tree's venv, scripts and data serve both sides."""

import os
import statistics
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


def print_comparison(
    figures: dict[str, dict[str, list[float]]],
    *,
    baseline: str,
    heading: str,
    label: str,
    digits: int,
) -> None:
    """The medians of both sides, name by name, and this tree's over the baseline's."""
    width = max(len(label), *(len(name) for name in figures["baseline"]))
    print(heading)
    print(f"{label:<{width}} {baseline[:12]:>12} {'this':>9} {'this/base':>9}")
    for name, before in figures["baseline"].items():
        after, before_median = statistics.median(figures["this"][name]), statistics.median(before)
        print(
            f"{name:<{width}} {before_median:>12.{digits}f} {after:>9.{digits}f} "
            f"{after / before_median:>9.3f}"
        )
