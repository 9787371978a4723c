"""`fastblog seed`'s progress bar: how far, how fast, how long still, and then what it does
after the rows."""

import io
import re

from rich.console import Console

from fastblog.seed.progress import AFTER_THE_ROWS, seed_progress


def test_the_bar_shows_posts_written_their_rate_and_the_time_left() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=140, color_system=None)

    with seed_progress(10_000, console) as written:
        written(2_500)
        console.file.flush()
        halfway = screen.getvalue()
        written(10_000)

    assert re.search(r"2500/10000 +[\d,]+ posts/s", halfway), halfway
    assert re.search(r"left (\d+:\d\d:\d\d|-:--:--)", halfway), halfway
    drawn = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", screen.getvalue())  # cursor moves
    last_line = [line for line in re.split(r"[\r\n]", drawn) if line.strip()][-1]
    assert "10000/10000" in last_line
    assert AFTER_THE_ROWS in last_line


def test_in_a_log_a_line_tells_each_tenth() -> None:
    log = io.StringIO()

    with seed_progress(1_000, Console(file=log, force_terminal=False, width=140)) as written:
        for count in range(50, 1_001, 50):
            written(count)

    lines = [line for line in log.getvalue().splitlines() if "posts/s," in line]
    assert [line.split(" / ")[0] for line in lines] == [f"{n:,}" for n in range(100, 1_001, 100)]
