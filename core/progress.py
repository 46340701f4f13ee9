"""A progress bar for management commands that run long (export_wxr, import_wxr).

    with progress_bar(self.stderr, unit="posts") as progress:
        work(on_progress=progress)  # progress(done, total), or None off a terminal

draws `[######                   ]  24%  120/500 posts` in place on one line, redrawn only when the
percentage changes, and ends the line when the work ends (or fails). When the stream is not a
terminal (a pipe, a log file, a test) there is no bar and `progress` is None.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

BAR_WIDTH = 25


class ProgressBar:
    def __init__(self, out, unit: str = "") -> None:
        self.out = out  # a management command's self.stdout or self.stderr
        self.unit = unit  # with a unit, the bar also shows "done/total unit"
        self._last_percent = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if not total else min(100, done * 100 // total)
        if percent == self._last_percent:
            return
        self._last_percent = percent
        line = f"\r[{'#' * (percent * BAR_WIDTH // 100):<{BAR_WIDTH}}] {percent:3d}%"
        if self.unit:
            line += f"  {done}/{total} {self.unit}"
        self.out.write(line, ending="")
        self.out.flush()


@contextmanager
def progress_bar(out, unit: str = "") -> Iterator[ProgressBar | None]:
    """A ProgressBar on `out` while the block runs when `out` is a terminal, else None."""
    bar = ProgressBar(out, unit) if out.isatty() else None
    try:
        yield bar
    finally:
        if bar is not None:
            out.write("")  # end the bar's line
