"""Long work shows progress in logs: plain lines at least every 10 s when not on a
terminal, rich's bar on one. Time comes from a fake clock; nothing sleeps."""

from __future__ import annotations

import io
import threading

import pytest

from therabee.progress import PlainProgress, _heartbeat, progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_forced_terminal(monkeypatch):
    """rich honours these over isatty(); the tests decide for themselves."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_a_plain_line_goes_out_once_ten_seconds_pass_and_not_more_often():
    clock, out = FakeClock(), io.StringIO()
    work = PlainProgress("simulating", 100, out, clock)
    work.start()
    assert lines(out) == ["simulating: started, 100 to do"]

    for step in range(1, 10):  # 9.9 s of steady work: no line yet
        clock.now = step * 1.1
        work.advance()
    assert len(lines(out)) == 1
    assert work.until_due() == pytest.approx(0.1)

    clock.now = 10.0
    work.advance()
    assert lines(out)[-1] == "simulating: 10/100 (10 %), 0:00:10 elapsed, 1.0/s, about 0:01:30 left"

    clock.now = 19.9
    work.advance(5)
    work.tick()
    assert len(lines(out)) == 2

    clock.now = 20.0
    work.tick()  # what the heartbeat calls while the work is busy in one long step
    assert lines(out)[-1] == "simulating: 15/100 (15 %), 0:00:20 elapsed, 0.8/s, about 0:01:53 left"
    assert work.until_due() == 10.0

    clock.now = 21.0
    work.finish()
    assert lines(out)[-1] == "simulating: finished 15/100 (15 %), 0:00:21 elapsed"
    assert len(lines(out)) == 4


def test_work_without_a_total_reports_elapsed_time():
    clock, out = FakeClock(), io.StringIO()
    work = PlainProgress("load", None, out, clock)
    work.start()
    clock.now = 12.0
    work.tick()
    assert lines(out) == ["load: started", "load: 0:00:12 elapsed"]


def test_on_a_pipe_progress_prints_start_and_end_lines():
    out = io.StringIO()
    with progress("seeding", 3, stream=out, clock=FakeClock()) as advance:
        for _ in range(3):
            advance()
    assert lines(out) == ["seeding: started, 3 to do", "seeding: finished 3/3 (100 %), 0:00:00 elapsed"]


@pytest.mark.parametrize("forced", ["FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"])
def test_a_ci_that_forces_colour_still_gets_plain_lines_on_a_pipe(monkeypatch, forced):
    monkeypatch.setenv(forced, "1")
    out = io.StringIO()
    with progress("seeding", 3, stream=out, clock=FakeClock()) as advance:
        for _ in range(3):
            advance()
    assert lines(out) == ["seeding: started, 3 to do", "seeding: finished 3/3 (100 %), 0:00:00 elapsed"]


def test_on_a_pipe_an_error_ends_the_lines_as_stopped():
    out = io.StringIO()
    with pytest.raises(RuntimeError), progress("probes", stream=out, clock=FakeClock()):
        raise RuntimeError("boom")
    assert lines(out)[-1] == "probes: stopped by an error, 0:00:00 elapsed"


def test_on_a_terminal_progress_is_rich_bar_and_no_plain_lines():
    out = Terminal()
    with progress("seeding", 3, stream=out, clock=FakeClock()) as advance:
        for _ in range(3):
            advance()
    text = out.getvalue()
    assert "\x1b[" in text and "seeding" in text and "3/3" in text
    assert "started" not in text and "finished" not in text


def test_the_heartbeat_prints_while_no_work_is_reported():
    out = io.StringIO()
    clock = FakeClock()
    work = PlainProgress("probes", None, out, clock)
    work.start()
    stop = threading.Event()
    clock.now = 10.0  # due now: the heartbeat's first wait is zero
    beat = threading.Thread(target=_heartbeat, args=(work, stop))
    beat.start()
    try:
        for _ in range(1000):  # the line appears without anyone calling advance()
            if len(lines(out)) == 2:
                break
            stop.wait(0.005)
    finally:
        stop.set()
        beat.join()
    assert lines(out) == ["probes: started", "probes: 0:00:10 elapsed"]
