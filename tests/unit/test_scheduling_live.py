"""What an occurrence shows at an instant: "in progress" derived from the clock when no webhook
reports it, and the Join window. Instants are written out by hand."""

from datetime import datetime, timedelta, timezone

import pytest

from therabee.scheduling.live import can_join, join_from, status_at

UTC = timezone.utc
# a 50-minute session on Monday 7 December 2026, 09:00–09:50 UTC (10:00–10:50 in Berlin)
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
END = datetime(2026, 12, 7, 9, 50, tzinfo=UTC)


def at(hour: int, minute: int, second: int = 0, microsecond: int = 0) -> datetime:
    return datetime(2026, 12, 7, hour, minute, second, microsecond, tzinfo=UTC)


@pytest.mark.parametrize("now, shown", [
    (at(8, 59, 59, 999_999), "scheduled"),  # a microsecond before the start
    (at(9, 0), "in_progress"),  # from the start, inclusive
    (at(9, 25), "in_progress"),
    (at(9, 49, 59, 999_999), "in_progress"),
    (at(9, 50), "scheduled"),  # the end is exclusive: after it, attendance is still to be marked
    (at(12, 0), "scheduled"),
    (datetime(2026, 12, 6, 9, 30, tzinfo=UTC), "scheduled"),  # the day before, same time of day
])
def test_without_webhooks_a_scheduled_occurrence_is_in_progress_from_its_start_to_its_end(now, shown):
    assert status_at("scheduled", START, END, now, provider_reports_status=False) == shown


def test_the_instants_may_be_in_any_zone():
    berlin_start = datetime(2026, 12, 7, 10, 0, tzinfo=timezone(timedelta(hours=1)))  # = 09:00 UTC
    new_york_now = datetime(2026, 12, 7, 4, 10, tzinfo=timezone(timedelta(hours=-5)))  # = 09:10 UTC
    assert status_at("scheduled", berlin_start, END, new_york_now, provider_reports_status=False) == "in_progress"


def test_with_webhooks_the_stored_status_is_shown_whatever_the_clock():
    for now in (at(8, 0), at(9, 0), at(9, 25), at(10, 0)):
        assert status_at("scheduled", START, END, now, provider_reports_status=True) == "scheduled"
    assert status_at("in_progress", START, END, at(9, 25), provider_reports_status=True) == "in_progress"
    assert status_at("completed", START, END, at(9, 25), provider_reports_status=True) == "completed"


@pytest.mark.parametrize("status", ["cancelled", "late_cancelled", "completed", "no_show", "in_progress"])
def test_other_statuses_are_never_changed_by_the_clock(status):
    assert status_at(status, START, END, at(9, 25), provider_reports_status=False) == status


@pytest.mark.parametrize("status", ["scheduled", "in_progress"])
def test_join_opens_an_hour_before_the_start(status):
    assert join_from(status, START) == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", ["cancelled", "late_cancelled", "completed", "no_show"])
def test_an_occurrence_that_will_not_be_held_has_no_join(status):
    assert join_from(status, START) is None
    assert not can_join(status, START, END, at(9, 10))


@pytest.mark.parametrize("now, open_", [
    (datetime(2026, 12, 4, 9, 0, tzinfo=UTC), False),  # three days ahead
    (at(7, 59, 59), False),  # one hour and a second ahead
    (at(8, 0), True),  # one hour ahead, inclusive
    (at(8, 30), True),  # thirty minutes ahead
    (at(9, 49), True),  # in the last minute
    (at(9, 50), False),  # at the end, exclusive
])
def test_join_is_open_from_an_hour_before_the_start_until_the_end(now, open_):
    assert can_join("scheduled", START, END, now) is open_
    assert can_join("in_progress", START, END, now) is open_
