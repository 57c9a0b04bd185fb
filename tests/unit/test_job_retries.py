"""The jobs' one retry policy (services/jobs.py): which failures run again, after how long."""

from __future__ import annotations

import logging
import random

import pytest
from sqlalchemy.exc import OperationalError

from therabee.services import jobs
from therabee.settings import get_settings
from therabee.video import VideoAuthError, VideoRateLimited, VideoRequestError, VideoUnavailable


@pytest.fixture(autouse=True)
def policy(monkeypatch):
    """5 runs in all, backoff from 2 s, capped at 60 s."""
    monkeypatch.setenv("THERABEE_JOB_ATTEMPTS", "5")
    monkeypatch.setenv("THERABEE_JOB_BACKOFF_SECONDS", "2")
    monkeypatch.setenv("THERABEE_JOB_BACKOFF_CAP_SECONDS", "60")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize("attempt, low, high", [(1, 1, 2), (2, 2, 4), (3, 4, 8), (4, 8, 16)])
def test_the_wait_doubles_from_the_base_with_half_of_it_random(attempt, low, high):
    # 2 s * 2**(attempt-1), of which the first half is fixed and the second half random
    waits = [jobs.retry_delay("j", attempt, VideoUnavailable("Zoom answered 500")) for _ in range(200)]
    assert all(low <= wait <= high for wait in waits)
    assert len(set(waits)) > 100  # jittered: failures at the same moment spread out


def test_the_wait_stops_growing_at_the_cap():
    rng = random.Random(7)
    assert all(30 <= jobs.backoff_delay(n, 2, 60, rng) <= 60 for n in range(6, 40))


def test_retry_after_is_honoured_when_longer_than_the_backoff():
    assert jobs.retry_delay("j", 1, VideoRateLimited(9.5)) == 9.5
    assert jobs.retry_delay("j", 1, VideoUnavailable("Zoom answered 503", retry_after=7.0)) == 7.0
    assert 8 <= jobs.retry_delay("j", 4, VideoRateLimited(1.0)) <= 16  # the backoff is longer


@pytest.mark.parametrize("error", [OperationalError("SELECT 1", {}, Exception("server closed")),
                                   ConnectionRefusedError(), TimeoutError(), VideoRateLimited(None)])
def test_a_database_mail_server_or_provider_away_is_retried(error):
    assert 1 <= jobs.retry_delay("j", 1, error) <= 2


@pytest.mark.parametrize("error", [VideoAuthError("refused"), VideoRequestError(400, 300, "Invalid field"),
                                   ValueError("a bug"), KeyError("x")])
def test_what_another_run_cannot_fix_is_not_retried(error):
    assert jobs.retry_delay("j", 1, error) is None


def test_a_job_runs_at_most_job_attempts_times_and_each_failure_is_logged_with_its_number(caplog):
    caplog.set_level(logging.WARNING, logger="therabee.services.jobs")
    error = VideoUnavailable("Zoom answered 500")
    waits = [jobs.retry_delay("therabee.meetings.update", n, error) for n in range(1, 6)]
    assert [w is not None for w in waits] == [True, True, True, True, False]
    lines = [r.getMessage() for r in caplog.records]
    assert [f"attempt {n} of 5 failed" in line for n, line in enumerate(lines, 1)] == [True] * 5
    assert "next attempt in" in lines[3] and "given up" in lines[4]
    assert all("therabee.meetings.update" in line and "Zoom answered 500" in line for line in lines)


def test_a_wait_longer_than_the_cap_is_left_to_the_periodic_sweep():
    assert jobs.retry_delay("j", 1, VideoRateLimited(3 * 3600.0, "daily limit")) is None
    assert jobs.retry_delay("j", 1, VideoRateLimited(60.0)) == 60.0


def test_the_retry_window_outlasts_every_wait_of_a_job():
    longest = sum(60 for _ in range(4))  # four waits, each at most the cap
    assert jobs.retry_window().total_seconds() == 5 * 60 > longest
