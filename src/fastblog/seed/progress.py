"""The seed's progress bar (rich, on stderr): posts written, their rate, the time left, and
then what comes after the rows (indexes, counters, statistics), which has no count."""

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

AFTER_THE_ROWS = "indexes and counters"
LOG_LINES = 10


class RateColumn(ProgressColumn):
    """Posts a second since the start: the rows come in chunks of thousands, too few a
    second for rich's own recent-speed estimate to settle."""

    def render(self, task: Task) -> Text:
        elapsed = task.finished_time if task.finished else task.elapsed
        rate = task.completed / elapsed if elapsed else 0.0
        return Text(f"{rate:,.0f} posts/s", style="progress.data.speed")


@contextlib.contextmanager
def seed_progress(posts: int, console: Console | None = None) -> Iterator[Callable[[int], None]]:
    """A bar for `posts` posts (on stderr unless `console` says otherwise); yields the
    callback the seed calls with the posts written."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
    )
    task = bar.add_task("posts", total=posts)
    # Not a terminal (a log, `make bench` seeding): rich draws the bar once, at the end; a
    # line at every tenth instead tells a reader of the log how it went.
    in_a_log = not bar.console.is_terminal
    next_line = posts / LOG_LINES

    def written(count: int) -> None:
        nonlocal next_line
        bar.update(task, completed=count, refresh=True)  # each chunk shows at once
        if count >= posts:
            bar.update(task, description=AFTER_THE_ROWS)
        if in_a_log and count >= next_line:
            next_line += posts / LOG_LINES
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = count / elapsed if elapsed else 0.0
            bar.console.print(f"{count:,} / {posts:,} posts, {rate:,.0f} posts/s, {elapsed:.0f} s")

    with bar:
        yield written
