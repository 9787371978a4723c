"""The PNG charts of both reports (matplotlib, Agg: no display needed)."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType


def _pyplot() -> ModuleType:
    """matplotlib's pyplot, imported when a chart is drawn: the tests import this module while
    collecting, in every worker, and matplotlib costs a second of CPU to import."""
    import matplotlib

    matplotlib.use("Agg")  # before pyplot: a headless machine has no display
    import matplotlib.pyplot

    return matplotlib.pyplot


def route_bars(
    path: Path,
    *,
    title: str,
    labels: Sequence[str],
    requests_per_s: Sequence[float],
    ratios: Sequence[float],
    target_rps: Sequence[float | None],
    ceiling_rps: float,
) -> None:
    """Requests/s per route beside the ceiling's mean, each bar marked with its target."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(9, 4.5), layout="constrained")
    names = ["ceiling", *labels]
    values = [ceiling_rps, *requests_per_s]
    colors = ["#9e9e9e"] + ["#1f77b4"] * len(labels)
    bars = axes.barh(names, values, color=colors)
    axes.invert_yaxis()  # ceiling on top, routes in the order they ran
    for bar, ratio in zip(bars, [1.0, *ratios], strict=True):
        axes.annotate(
            f"{bar.get_width():,.0f}/s  ({ratio:.2f}x)",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    for index, x in enumerate(target_rps, start=1):
        if x is not None:
            axes.plot([x, x], [index - 0.4, index + 0.4], color="#d62728", linewidth=2)
    axes.set_xlabel("requests/s (red tick: the target share of the ceiling around the route)")
    axes.set_xlim(0, max(values) * 1.35)
    axes.set_title(title, fontsize=10)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def throughput_lines(
    path: Path,
    *,
    title: str,
    series: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    reference: tuple[Sequence[int], Sequence[float]] | None = None,
) -> None:
    """Requests/s against concurrency, one line per mode, log scale: they span 1000x.

    `reference`, dashed, is the ideal of the waiting modes (concurrency ÷ wait).
    """
    plt = _pyplot()
    from matplotlib.ticker import NullFormatter

    figure, axes = plt.subplots(figsize=(9.5, 5), layout="constrained")
    if reference is not None:
        axes.plot(*reference, linestyle="--", color="black", label="ideal: concurrency ÷ wait")
    for mode, (concurrency, requests_per_s) in series.items():
        axes.plot(concurrency, [max(v, 0.1) for v in requests_per_s], marker="o", label=mode)
    axes.set_xscale("log")
    axes.set_yscale("log")
    every_level = sorted({c for levels, _ in series.values() for c in levels})
    axes.set_xticks(every_level, [str(c) for c in every_level])
    axes.xaxis.set_minor_formatter(NullFormatter())  # only the measured levels are labelled
    axes.set_xlabel("concurrent connections")
    axes.set_ylabel("requests/s")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    axes.set_title(title, fontsize=10)
    figure.savefig(path, dpi=110)
    plt.close(figure)
