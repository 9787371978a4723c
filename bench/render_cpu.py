"""CPU per Markdown render (fastblog.posts.markdown.render, and a comment's render_lite) on a
few kinds of text: what a post's write costs beside its request, in the request's own
process (short posts and comments) or in the process pool (long ones).

    .venv/bin/python -m bench.render_cpu [--rounds 9]
    .venv/bin/python -m bench.render_cpu --instructions            # under callgrind: exact
    .venv/bin/python -m bench.render_cpu --baseline main [--instructions]

`--baseline REV` renders with that revision's `src/` (bench.baseline: exported, first on
PYTHONPATH) in alternating processes with this tree's; the texts are this tree's either way.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.baseline import baseline_sources, print_comparison
from bench.live import REPO_ROOT

DEMO_POSTS = REPO_ROOT / "src" / "fastblog" / "seed" / "demo"
COMMENT = "Comment 7: *thanks* for [this](https://example.com), `await` it. A few more words."


def texts() -> dict[str, str]:
    """Prose without a link (the lead's 4.4 KB), six generated posts as the seed writes them,
    the demo blog's 19 posts in one, and texts full of links, of code and of a table."""
    from fastblog.seed.prose import corpus_bits, post_text

    rng = random.Random(11)
    links = (
        "See https://docs.python.org/3/library/re.html and www.example.org/path?q=1, or mail "
        "someone@example.com. The [manual](https://www.postgresql.org/docs/) says so; "
        "example.com is reserved. Version 3.12.1 is out.\n\n"
    ) * 20
    code = (
        "Some prose before the code, a few words.\n\n```python\n"
        + "def f(x):\n    return x * 2  # http://example.com\n" * 10
        + "```\n\nAnd after it, more words of prose.\n\n    indented code\n    two lines\n\n"
    ) * 6
    rows = "".join(f"| row {i} | {i * 3.5} | plain words here |\n" for i in range(60))
    return {
        "prose": "A few words of prose. " * 200,
        "seed": "\n\n".join(post_text(rng, corpus_bits(1_000)).content for _ in range(6)),
        "demo": "\n\n".join(path.read_text() for path in sorted(DEMO_POSTS.glob("*.md"))),
        "links": links,
        "code": code,
        "table": "| name | value | note |\n|---|---:|:---:|\n" + rows,
    }


def renderers() -> dict[str, tuple[Callable[[str], object], str, int]]:
    """Each case: its renderer, its text, and how many renders one sample times."""
    from fastblog.markup import render_lite
    from fastblog.posts.markdown import render

    cases = {name: (render, text, 20) for name, text in texts().items()}
    cases["demo"] = (render, cases["demo"][1], 3)
    return {**cases, "comment": (render_lite, COMMENT, 300)}


def cpu_medians(rounds: int) -> dict[str, float]:
    """Microseconds per render, the median of `rounds` interleaved rounds."""
    cases = renderers()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for render, text, _ in cases.values():
        render(text)  # warm: patterns compiled, lexers loaded
    for _ in range(rounds):
        for name, (render, text, count) in cases.items():
            start = time.process_time()
            for _ in range(count):
                render(text)
            samples[name].append((time.process_time() - start) / count * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def count_under_callgrind(out: Path) -> None:
    """Under callgrind (--instr-atstart=no): each case's renders counted alone, dumped under
    its name; how many renders each dump holds goes to `out`."""
    counts = {}
    for name, (render, text, count) in renderers().items():
        render(text)
        _callgrind("--instr=on")
        for _ in range(count):
            render(text)
        _callgrind(f"--dump={name}")
        _callgrind("--instr=off")
        counts[name] = count
    out.write_text(json.dumps(counts))


def _callgrind(option: str) -> None:
    subprocess.run(["callgrind_control", option, str(os.getpid())], check=True, capture_output=True)


def instructions(env: dict[str, str]) -> dict[str, float]:
    """Thousands of instructions per render, case by case (a child process under callgrind)."""
    with tempfile.TemporaryDirectory(prefix="fastblog-render-") as folder:
        counts_file = Path(folder) / "counts.json"
        command = [
            *("valgrind", "--tool=callgrind", "--instr-atstart=no"),
            f"--callgrind-out-file={folder}/callgrind.out",
            *(sys.executable, "-m", "bench.render_cpu", f"--under-callgrind={counts_file}"),
        ]
        subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, stderr=subprocess.DEVNULL)
        counts = json.loads(counts_file.read_text())
        totals = {}
        for dump in Path(folder).glob("callgrind.out.*"):
            lines = dump.read_text(errors="replace").splitlines()
            trigger = next((ln for ln in lines if ln.startswith("desc: Trigger: dump ")), "")
            total = next((ln for ln in lines if ln.startswith("totals: ")), "")
            if trigger and total:
                name = trigger.split()[-1]
                totals[name] = int(total.split()[1]) / counts[name] / 1e3
        return totals


def one_process(args: argparse.Namespace, env: dict[str, str]) -> dict[str, float]:
    if args.instructions:
        return instructions(env)
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, "-m", "bench.render_cpu", f"--rounds={args.rounds}"]
        subprocess.run([*command, f"--json={out.name}"], cwd=REPO_ROOT, env=env, check=True)
        return dict(json.loads(Path(out.name).read_text()))


def compare(args: argparse.Namespace) -> None:
    """This tree against `args.baseline`, in alternating processes."""
    figures: dict[str, dict[str, list[float]]] = {"baseline": {}, "this": {}}
    with baseline_sources(args.baseline) as (_, baseline_env):
        sides = {"baseline": baseline_env, "this": dict(os.environ)}
        for pair in range(args.pairs):
            for side in ("baseline", "this") if pair % 2 == 0 else ("this", "baseline"):
                for name, value in one_process(args, sides[side]).items():
                    figures[side].setdefault(name, []).append(value)
    unit = "k instructions" if args.instructions else "CPU us"
    heading = f"{unit} per render, median of {args.pairs} process(es) a side"
    print_comparison(figures, baseline=args.baseline, heading=heading, label="text", digits=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--baseline", metavar="REV", help="compare with this git revision")
    parser.add_argument("--pairs", type=int, default=3, help="processes a side (--baseline)")
    parser.add_argument("--instructions", action="store_true", help="count under callgrind")
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--under-callgrind", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.under_callgrind:
        count_under_callgrind(args.under_callgrind)
    elif args.baseline:
        compare(args)
    elif args.instructions:
        for name, value in instructions(dict(os.environ)).items():
            print(f"{name:<8} {value:>9.0f} k instructions per render")
    else:
        medians = cpu_medians(args.rounds)
        for name, value in medians.items():
            print(f"{name:<8} {value:>9.0f} us per render")
        if args.json:
            args.json.write_text(json.dumps(medians))


if __name__ == "__main__":
    main()
