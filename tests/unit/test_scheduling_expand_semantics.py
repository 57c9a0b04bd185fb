"""Expansion semantics: exceptions, moves, pauses, ends, sessions, session limits, time off, one-offs."""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from therabee.scheduling.expand import (
    ExceptionSpec, Interval, PauseSpec, SeriesSpec, SessionSpec, expand, first_matches_rule,
    is_occurrence, next_start_at_or_after,
)
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import to_instant, zone

UTC = timezone.utc
BERLIN = zone("Europe/Berlin")
HOUR = timedelta(hours=1)
DURATION = timedelta(minutes=50)


def week(k: int, hour: int = 10) -> datetime:
    """The k-th Monday from 2026-01-05, at `hour` Berlin time, as a UTC instant."""
    return to_instant(datetime(2026, 1, 5, hour) + timedelta(weeks=k), BERLIN)


def weekly(**changes) -> SeriesSpec:
    series = SeriesSpec(id="s1", start=week(0), zone="Europe/Berlin", duration=DURATION,
                        rule=parse_rule("FREQ=WEEKLY;BYDAY=MO", BERLIN))
    return replace(series, **changes)


def starts(occurrences) -> list[datetime]:
    return [o.start for o in occurrences]


WHOLE = (week(0, 0), week(30, 0))


def test_plain_series_expands_every_week_as_scheduled_virtual_occurrences():
    found = expand(weekly(), week(0, 0), week(4, 0))
    assert starts(found) == [week(k) for k in range(4)]
    assert all(o.status == "scheduled" and not o.materialized and o.join_url is None for o in found)
    assert all(o.end - o.start == DURATION and o.original_start == o.start for o in found)


def test_window_is_half_open():
    assert starts(expand(weekly(), week(1), week(2))) == [week(1)]


@pytest.mark.parametrize("kind", ["cancelled", "late_cancelled"])
def test_cancelled_exception_is_shown_with_its_status(kind):
    found = expand(weekly(), week(0, 0), week(3, 0), exceptions=[ExceptionSpec(week(1), kind)])
    assert starts(found) == [week(0), week(1), week(2)]
    assert [o.status for o in found] == ["scheduled", kind, "scheduled"]
    assert found[1].original_start == week(1) and not found[1].materialized


def test_moved_occurrence_shows_at_its_new_time_with_its_original_identity():
    moved = ExceptionSpec(week(1), "moved", new_start=week(1, 15))
    found = expand(weekly(), week(0, 0), week(3, 0), exceptions=[moved])
    assert starts(found) == [week(0), week(1, 15), week(2)]
    assert found[1].original_start == week(1)
    assert found[1].id.to_string() == f"s1:{week(1):%Y%m%dT%H%M%SZ}"
    assert found[1].end == week(1, 15) + DURATION and found[1].status == "scheduled"


def test_moved_occurrence_takes_its_new_duration():
    moved = ExceptionSpec(week(1), "moved", new_start=week(1, 15), new_duration=timedelta(minutes=90))
    found = expand(weekly(), week(1, 0), week(2, 0), exceptions=[moved])
    assert [(o.start, o.end) for o in found] == [(week(1, 15), week(1, 15) + timedelta(minutes=90))]


def test_occurrence_moved_into_the_window_from_outside_it_is_shown():
    moved = ExceptionSpec(week(5), "moved", new_start=week(2, 14))  # moved three weeks earlier
    found = expand(weekly(), week(2, 0), week(3, 0), exceptions=[moved])
    assert [(o.original_start, o.start) for o in found] == [(week(2), week(2)), (week(5), week(2, 14))]


def test_moved_occurrence_vanishes_from_the_window_of_its_original_start():
    moved = ExceptionSpec(week(5), "moved", new_start=week(2, 14))
    assert starts(expand(weekly(), week(5, 0), week(6, 0), exceptions=[moved])) == []


def test_pause_skips_occurrences_on_its_inclusive_local_days():
    pause = PauseSpec(date(2026, 1, 12), date(2026, 1, 19))  # weeks 1 and 2, both ends inclusive
    found = expand(weekly(), week(0, 0), week(4, 0), pauses=[pause])
    assert starts(found) == [week(0), week(3)]


def test_several_pauses_each_skip():
    pauses = [PauseSpec(date(2026, 1, 12), date(2026, 1, 12)), PauseSpec(date(2026, 1, 26), date(2026, 1, 30))]
    assert starts(expand(weekly(), week(0, 0), week(5, 0), pauses=pauses)) == [week(0), week(2), week(4)]


def test_pause_days_are_in_the_series_zone_not_utc():
    sydney = zone("Australia/Sydney")
    # Monday 08:00 in Sydney is Sunday evening in UTC
    first = to_instant(datetime(2026, 6, 1, 8, 0), sydney)
    series = SeriesSpec("s2", first, "Australia/Sydney", DURATION, parse_rule("FREQ=WEEKLY", sydney))
    window = (first - HOUR, first + timedelta(weeks=1))
    assert first.date() == date(2026, 5, 31)
    assert expand(series, *window, pauses=[PauseSpec(date(2026, 6, 1), date(2026, 6, 1))]) == []
    assert len(expand(series, *window, pauses=[PauseSpec(date(2026, 5, 31), date(2026, 5, 31))])) == 1


def test_ends_before_cuts_the_series():
    found = expand(weekly(ends_before=week(3)), *WHOLE)
    assert starts(found) == [week(0), week(1), week(2)]
    assert starts(expand(weekly(ends_before=week(3) + timedelta(seconds=1)), *WHOLE))[-1] == week(3)


def test_count_ends_the_series():
    series = weekly(rule=parse_rule("FREQ=WEEKLY;BYDAY=MO;COUNT=4", BERLIN))
    assert starts(expand(series, *WHOLE)) == [week(k) for k in range(4)]


def test_until_ends_the_series_inclusively():
    series = weekly(rule=parse_rule("FREQ=WEEKLY;UNTIL=20260119", BERLIN))  # a date: all of week 2's Monday
    assert starts(expand(series, *WHOLE)) == [week(0), week(1), week(2)]


def test_materialized_session_overrides_the_occurrence_by_identity():
    session = SessionSpec(week(1), week(1, 11), week(1, 12), "completed", "https://meet.example/1")
    found = expand(weekly(), week(0, 0), week(3, 0), sessions=[session])
    assert starts(found) == [week(0), week(1, 11), week(2)]
    held = found[1]
    assert (held.original_start, held.end, held.status, held.materialized, held.join_url) == (
        week(1), week(1, 12), "completed", True, "https://meet.example/1")


def test_session_wins_over_an_exception_with_the_same_identity():
    session = SessionSpec(week(1), week(1), week(1) + DURATION, "in_progress")
    found = expand(weekly(), week(1, 0), week(2, 0), sessions=[session],
                   exceptions=[ExceptionSpec(week(1), "cancelled")])
    assert [(o.status, o.materialized) for o in found] == [("in_progress", True)]


def test_cancelled_session_is_shown_as_cancelled():
    session = SessionSpec(week(1), week(1), week(1) + DURATION, "cancelled")
    found = expand(weekly(), week(1, 0), week(2, 0), sessions=[session])
    assert [(o.status, o.materialized) for o in found] == [("cancelled", True)]


def test_session_moved_out_of_the_window_is_not_shown_in_it():
    session = SessionSpec(week(1), week(4, 9), week(4, 10), "scheduled")
    assert expand(weekly(), week(1, 0), week(2, 0), sessions=[session]) == []
    assert starts(expand(weekly(), week(4, 0), week(5, 0), sessions=[session])) == [week(4, 9), week(4)]


def test_sessions_limit_ends_the_series_after_that_many_held_occurrences():
    assert starts(expand(weekly(sessions_limit=5), *WHOLE)) == [week(k) for k in range(5)]


def test_sessions_limit_does_not_count_cancelled_paused_or_time_off_occurrences_but_a_no_show():
    exceptions = [ExceptionSpec(week(1), "cancelled"), ExceptionSpec(week(2), "late_cancelled")]
    sessions = [SessionSpec(week(3), week(3), week(3) + DURATION, "no_show")]
    pauses = [PauseSpec(date(2026, 2, 2), date(2026, 2, 2))]  # week 4
    time_off = [Interval(week(5, 0), week(5, 23))]
    found = expand(weekly(sessions_limit=5), *WHOLE, exceptions=exceptions, pauses=pauses,
                   sessions=sessions, time_off=time_off)
    assert [(o.original_start, o.status) for o in found] == [
        (week(0), "scheduled"), (week(1), "cancelled"), (week(2), "late_cancelled"), (week(3), "no_show"),
        (week(6), "scheduled"), (week(7), "scheduled"), (week(8), "scheduled")]


def test_sessions_limit_counts_completed_sessions_and_moved_occurrences():
    sessions = [SessionSpec(week(0), week(0), week(0) + DURATION, "completed")]
    moved = [ExceptionSpec(week(1), "moved", new_start=week(1, 15))]
    found = expand(weekly(sessions_limit=3), *WHOLE, exceptions=moved, sessions=sessions)
    assert [o.original_start for o in found] == [week(0), week(1), week(2)]


def test_sessions_limit_applies_to_a_late_window_alone():
    series = weekly(sessions_limit=5)
    exceptions = [ExceptionSpec(week(1), "cancelled")]
    assert starts(expand(series, week(5, 0), week(8, 0), exceptions=exceptions)) == [week(5)]


def test_time_off_hides_the_occurrences_it_overlaps():
    time_off = [Interval(week(1, 10) + timedelta(minutes=30), week(2, 0)),  # overlaps week 1's end
                Interval(week(3) - HOUR, week(3))]  # ends where week 3 starts: no overlap
    assert starts(expand(weekly(), week(0, 0), week(4, 0), time_off=time_off)) == [week(0), week(2), week(3)]


def test_time_off_uses_the_moved_time():
    moved = [ExceptionSpec(week(1), "moved", new_start=week(1, 15))]
    off_at_original = [Interval(week(1, 10), week(1, 11))]
    off_at_new = [Interval(week(1, 15), week(1, 16))]
    assert starts(expand(weekly(), week(1, 0), week(2, 0), moved, time_off=off_at_original)) == [week(1, 15)]
    assert expand(weekly(), week(1, 0), week(2, 0), moved, time_off=off_at_new) == []


def test_one_off_series_yields_one_occurrence():
    one_off = weekly(rule=None, start=week(2, 9))
    found = expand(one_off, *WHOLE)
    assert [(o.original_start, o.start, o.end) for o in found] == [(week(2, 9), week(2, 9), week(2, 9) + DURATION)]
    assert expand(one_off, week(3, 0), week(30, 0)) == []
    assert expand(one_off, week(0, 0), week(2, 9)) == []
    assert expand(replace(one_off, ends_before=week(2, 9)), *WHOLE) == []


def test_first_matches_rule_is_false_when_the_start_is_not_on_the_rule():
    tuesdays = parse_rule("FREQ=WEEKLY;BYDAY=TU", BERLIN)
    assert not first_matches_rule(weekly(rule=tuesdays))  # week(0) is a Monday
    assert first_matches_rule(weekly(rule=tuesdays, start=week(0) + timedelta(days=1)))
    assert first_matches_rule(weekly())
    second_tuesday = parse_rule("FREQ=MONTHLY;BYDAY=2TU", BERLIN)
    assert first_matches_rule(weekly(rule=second_tuesday, start=to_instant(datetime(2026, 1, 13, 10), BERLIN)))
    assert not first_matches_rule(weekly(rule=second_tuesday, start=to_instant(datetime(2026, 1, 6, 10), BERLIN)))


def test_is_occurrence_and_next_start_follow_the_rule():
    series = weekly()
    assert is_occurrence(series, week(3))
    assert not is_occurrence(series, week(3) + HOUR)
    assert next_start_at_or_after(series, week(3) + HOUR) == week(4)
    assert next_start_at_or_after(series, week(3)) == week(3)
    assert next_start_at_or_after(weekly(ends_before=week(3)), week(3)) is None
