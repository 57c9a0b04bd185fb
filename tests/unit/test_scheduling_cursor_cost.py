"""Expansion from a cursor does not walk the series from its first start: count the work, not the time."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from therabee.scheduling import expand as expand_module
from therabee.scheduling.expand import SeriesSpec, advance_cursor, expand
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import to_instant, zone

NEW_YORK = zone("America/New_York")


@pytest.fixture
def conversions(monkeypatch):
    """How many local times expansion turned into instants (one per rule step it walked)."""
    calls = []
    real = expand_module.to_instant

    def counting(local, tz):
        calls.append(local)
        return real(local, tz)

    monkeypatch.setattr(expand_module, "to_instant", counting)
    return calls


def two_year_old_weekly_series() -> tuple[SeriesSpec, datetime, datetime]:
    first = to_instant(datetime(2024, 1, 8, 10, 0), NEW_YORK)
    series = SeriesSpec("s1", first, "America/New_York", timedelta(minutes=50),
                        parse_rule("FREQ=WEEKLY", NEW_YORK))
    week_start = to_instant(datetime(2026, 1, 5), NEW_YORK)
    return series, week_start, week_start + timedelta(weeks=1)


def test_expanding_one_week_with_a_cursor_converts_only_a_few_instants(conversions):
    series, week_start, week_end = two_year_old_weekly_series()
    with_cursor = replace(series, cursor=advance_cursor(series, week_start))
    conversions.clear()
    found = expand(with_cursor, week_start, week_end)
    assert len(found) == 1
    assert len(conversions) < 5


def test_expanding_one_week_without_a_cursor_walks_from_the_first_start(conversions):
    series, week_start, week_end = two_year_old_weekly_series()
    found = expand(series, week_start, week_end)
    assert len(found) == 1
    assert len(conversions) > 100  # about 104 weeks walked: why the cursor exists


def test_a_cursor_after_the_window_is_not_used_and_the_result_is_still_right(conversions):
    series, week_start, week_end = two_year_old_weekly_series()
    too_late = replace(series, cursor=advance_cursor(series, week_end + timedelta(weeks=4)))
    assert expand(too_late, week_start, week_end) == expand(series, week_start, week_end)


def test_advancing_a_cursor_walks_only_from_the_previous_cursor(conversions):
    series, week_start, _ = two_year_old_weekly_series()
    series = replace(series, cursor=advance_cursor(series, week_start))
    conversions.clear()
    moved_on = advance_cursor(series, week_start + timedelta(weeks=2))
    assert moved_on.index == series.cursor.index + 2
    assert len(conversions) < 6
