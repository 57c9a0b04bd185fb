"""Progress of long work (bench, reliability, seeding) that shows in logs too.

On a terminal, rich's bar. Anywhere else (a file, a pipe, CI) rich draws nothing until
the end, and that behaviour is not adjustable, so a plain line goes out at the start, at
least every 10 s while the work runs, and at the end.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

EVERY = 10.0  # seconds between plain lines


def _duration(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


class PlainProgress:
    """Plain progress lines for `what`, timed by `clock` (monotonic seconds).

    `advance()` counts work done; `advance()` and `tick()` print a line when `every`
    seconds have passed since the last one, and never more often.
    """

    def __init__(self, what: str, total: int | None, stream: TextIO,
                 clock: Callable[[], float] = time.monotonic, every: float = EVERY) -> None:
        self.what, self.total, self.stream = what, total, stream
        self.clock, self.every = clock, every
        self.done = 0
        self._lock = threading.Lock()  # the heartbeat thread and the caller both print

    def start(self) -> None:
        self.began = self.last = self.clock()
        self._line("started" + (f", {self.total:,} to do" if self.total else ""))

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.tick()

    def tick(self) -> None:
        with self._lock:
            now = self.clock()
            if now - self.last < self.every:
                return
            self.last = now
            self._line(self._status(now - self.began))

    def until_due(self) -> float:
        """Seconds until the next line is due."""
        return max(0.0, self.last + self.every - self.clock())

    def finish(self, ok: bool = True) -> None:
        ended = "finished" if ok else "stopped by an error"
        count = f" {self._count()}" if self.done else ""
        with self._lock:
            self._line(f"{ended}{count}, {_duration(self.clock() - self.began)} elapsed")

    def _count(self) -> str:
        if self.total:
            return f"{self.done:,}/{self.total:,} ({100 * self.done / self.total:.0f} %)"
        return f"{self.done:,}"

    def _status(self, elapsed: float) -> str:
        parts = [self._count()] if self.done or self.total else []
        parts.append(f"{_duration(elapsed)} elapsed")
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            parts.append(f"{rate:,.1f}/s")
            if self.total and self.done < self.total:
                parts.append(f"about {_duration((self.total - self.done) / rate)} left")
        return ", ".join(parts)

    def _line(self, text: str) -> None:
        self.stream.write(f"{self.what}: {text}\n")
        self.stream.flush()


@contextmanager
def progress(what: str, total: int | None = None, *, stream: TextIO | None = None,
             clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[..., None]]:
    """Show the progress of `what` on `stream` (stdout); yield `advance(n=1)`.

    A terminal gets rich's bar; anything else gets plain lines (PlainProgress), also
    when the work stops calling `advance` for a while.
    """
    stream = stream or sys.stdout
    console = Console(file=stream)
    # rich's bar only on a real terminal: a log or pipe gets plain lines even when
    # FORCE_COLOR or TTY_COMPATIBLE (set by many CI systems) make rich think otherwise
    if stream.isatty() and console.is_interactive:
        columns = [TextColumn("{task.description}"), BarColumn()] + ([MofNCompleteColumn()] if total else [])
        with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task(what, total=total)
            yield lambda n=1: bar.advance(task, n)
        return
    plain = PlainProgress(what, total, stream, clock)
    plain.start()
    stop = threading.Event()
    heartbeat = threading.Thread(target=_heartbeat, args=(plain, stop), daemon=True)
    heartbeat.start()
    ok = False
    try:
        yield plain.advance
        ok = True
    finally:
        stop.set()
        heartbeat.join()
        plain.finish(ok)


def _heartbeat(plain: PlainProgress, stop: threading.Event) -> None:
    """Lines keep coming while the work is busy in one long step."""
    while not stop.wait(plain.until_due()):
        plain.tick()
