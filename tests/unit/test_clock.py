"""The clock override of test runs: THERABEE_TEST_NOW, refused outside a test run, and a pinned
clock that keeps running; the pinned dates of `make test-dates`."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from therabee.services.clock import pinned
from therabee.settings import Settings
from therabee.testing.dates import dst_changes, next_leap_day, pinned_dates


def test_a_pinned_date_starts_at_ten_utc_and_an_instant_keeps_its_offset():
    assert Settings(testing=True, test_now="2028-02-29").test_now == datetime(2028, 2, 29, 10, tzinfo=timezone.utc)
    assert Settings(testing=True, test_now="2026-03-08T01:30:00-05:00").test_now == datetime(
        2026, 3, 8, 6, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("testing", [None, "0"])
def test_a_pinned_clock_outside_a_test_run_is_refused(monkeypatch, testing):
    monkeypatch.setenv("THERABEE_TEST_NOW", "2026-12-31")
    if testing is None:
        monkeypatch.delenv("THERABEE_TESTING")
    else:
        monkeypatch.setenv("THERABEE_TESTING", testing)
    with pytest.raises(ValidationError, match="THERABEE_TESTING=1"):
        Settings()


def test_a_pinned_instant_without_an_offset_is_refused():
    with pytest.raises(ValidationError, match="offset"):
        Settings(testing=True, test_now="2026-12-31T10:00:00")


def test_the_pinned_clock_runs_forward_from_its_instant():
    settings = Settings(testing=True, test_now="2026-12-31T23:59:59.990000+00:00")
    now = pinned(settings)
    first = now()
    assert settings.test_now <= first < settings.test_now + timedelta(seconds=5)
    while (second := now()).date() == first.date():  # 10 ms of real time cross midnight
        assert second < settings.test_now + timedelta(seconds=5)
    assert second.date() == date(2027, 1, 1)


def test_a_child_given_the_pin_and_its_real_instant_reads_what_its_parent_reads():
    """A process started by the test run (the app, a worker) first reads its clock minutes
    later, after its build: it must still agree with the run's clock, not lag behind it."""
    five_minutes_ago = datetime.now(timezone.utc) - timedelta(minutes=5)
    child = Settings(testing=True, test_now="2026-12-31T23:58:00+00:00", test_now_at=five_minutes_ago.isoformat())
    read = pinned(child)()
    expected = datetime(2027, 1, 1, 0, 3, tzinfo=timezone.utc)
    assert expected <= read < expected + timedelta(seconds=5)


def test_dst_changes_are_the_published_dates():
    # as published: US second Sunday of March / first of November, EU last Sundays of March / October
    assert dst_changes("America/New_York", 2026) == [date(2026, 3, 8), date(2026, 11, 1)]
    assert dst_changes("Europe/Berlin", 2026) == [date(2026, 3, 29), date(2026, 10, 25)]
    assert dst_changes("America/New_York", 2027) == [date(2027, 3, 14), date(2027, 11, 7)]
    assert dst_changes("Europe/Berlin", 2027) == [date(2027, 3, 28), date(2027, 10, 31)]


def test_the_pinned_dates_of_a_year():
    assert next_leap_day(date(2028, 2, 29)) == date(2028, 2, 29)
    assert next_leap_day(date(2028, 3, 1)) == date(2032, 2, 29)
    assert pinned_dates(date(2026, 11, 29)) == [
        date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 28), date(2026, 3, 29),
        date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 31), date(2026, 11, 1),
        date(2026, 11, 29), date(2026, 12, 31), date(2028, 2, 29)]
