"""Conflicts and free slots: every overlap is found, buffers widen them, slots follow local availability."""

from datetime import datetime, time, timedelta, timezone

from therabee.scheduling.conflicts import Busy, Slot, WeeklyHours, find_conflicts, free_slots, within_availability
from therabee.scheduling.expand import SeriesSpec, expand
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import to_instant, zone

UTC = timezone.utc
BERLIN = zone("Europe/Berlin")
MIN = timedelta(minutes=1)
WORKDAYS = [WeeklyHours(day, time(9), time(17)) for day in range(5)]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """Berlin wall-clock on day `day` counted from Monday 2026-01-05, as a UTC instant."""
    return to_instant(datetime(2026, 1, 5, hour, minute) + timedelta(days=day), BERLIN)


def busy(start: datetime, minutes: int, name: str | None = None) -> Busy:
    return Busy(start, start + timedelta(minutes=minutes), name)


def series_busy(rule: str, start: datetime, minutes: int, weeks: int) -> list[Busy]:
    series = SeriesSpec("existing", start, "Europe/Berlin", timedelta(minutes=minutes), parse_rule(rule, BERLIN))
    return [Busy(o.start, o.end, o.id.to_string()) for o in expand(series, start, start + timedelta(weeks=weeks))]


def test_find_conflicts_reports_every_overlap_not_just_the_first():
    candidates = [(local(7 * k, 10), local(7 * k, 10, 50)) for k in range(8)]  # weekly 10:00-10:50
    existing = series_busy("FREQ=WEEKLY;INTERVAL=2", local(0, 10, 30), 50, 8)  # biweekly 10:30-11:20
    assert len(existing) == 4
    hits = find_conflicts(candidates, existing)
    assert [h.start for h in hits] == [local(7 * k, 10, 30) for k in (0, 2, 4, 6)]
    assert all(h.occurrence_id.startswith("existing:") for h in hits)


def test_biweekly_series_collides_with_a_weekly_candidate_only_on_alternate_weeks():
    existing = series_busy("FREQ=WEEKLY;INTERVAL=2", local(0, 10), 60, 10)
    odd_weeks = [(local(7 * k, 10), local(7 * k, 11)) for k in (1, 3, 5, 7)]
    even_weeks = [(local(7 * k, 10), local(7 * k, 11)) for k in (0, 2, 4, 6)]
    assert find_conflicts(odd_weeks, existing) == []
    assert len(find_conflicts(even_weeks, existing)) == 4


def test_each_busy_interval_is_reported_once_and_by_start():
    existing = [busy(local(0, 14), 60, "b"), busy(local(0, 10), 60, "a")]
    candidates = [(local(0, 10, 30), local(0, 14, 30)), (local(0, 10), local(0, 11)), (local(0, 14), local(0, 15))]
    assert [h.occurrence_id for h in find_conflicts(candidates, existing)] == ["a", "b"]


def test_touching_intervals_do_not_collide():
    existing = [busy(local(0, 9), 60), busy(local(0, 11), 60)]
    assert find_conflicts([(local(0, 10), local(0, 11))], existing) == []
    assert len(find_conflicts([(local(0, 10), local(0, 11) + MIN)], existing)) == 1
    assert len(find_conflicts([(local(0, 10) - MIN, local(0, 11))], existing)) == 1


def test_pad_makes_near_intervals_collide():
    after = [busy(local(0, 11, 10), 50)]  # 10 minutes after the candidate ends
    before = [busy(local(0, 9), 50)]  # ends 10 minutes before the candidate starts
    candidate = [(local(0, 10), local(0, 11))]
    for existing in (after, before):
        assert find_conflicts(candidate, existing) == []
        assert find_conflicts(candidate, existing, pad=timedelta(minutes=10)) == []  # exactly the pad: fine
        assert find_conflicts(candidate, existing, pad=timedelta(minutes=15)) == existing


def test_a_long_busy_interval_that_started_long_before_is_found():
    existing = [busy(local(0, 0), 3 * 24 * 60), busy(local(1, 9), 30)]
    assert find_conflicts([(local(2, 10), local(2, 11))], existing) == existing[:1]


def test_free_slots_lie_in_berlin_availability_seen_from_utc():
    slots = free_slots([WeeklyHours(0, time(9), time(17))], "Europe/Berlin", [],
                       datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC), timedelta(minutes=50))
    assert len(slots) == 15  # 09:00, 09:30, ... 16:00
    assert slots[0] == Slot(datetime(2026, 1, 5, 8, 0, tzinfo=UTC), datetime(2026, 1, 5, 8, 50, tzinfo=UTC))
    assert slots[-1].start == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert all(s.start.astimezone(BERLIN).time() >= time(9) and s.end.astimezone(BERLIN).time() <= time(17)
               for s in slots)


def test_free_slots_follow_the_zone_in_summer():
    slots = free_slots([WeeklyHours(0, time(9), time(17))], "Europe/Berlin", [],
                       datetime(2026, 7, 6, tzinfo=UTC), datetime(2026, 7, 7, tzinfo=UTC), timedelta(hours=1),
                       step=timedelta(hours=1))
    assert [s.start.hour for s in slots] == list(range(7, 15))  # CEST is UTC+2


def test_free_slots_count_on_a_simple_week():
    slots = free_slots(WORKDAYS, "Europe/Berlin", [], local(0, 0), local(7, 0), timedelta(hours=1),
                       step=timedelta(hours=1))
    assert len(slots) == 5 * 8
    assert {s.start.astimezone(BERLIN).weekday() for s in slots} == {0, 1, 2, 3, 4}


def test_free_slots_skip_busy_times():
    existing = [busy(local(0, 12), 60)]
    slots = free_slots(WORKDAYS, "Europe/Berlin", existing, local(0, 0), local(1, 0), timedelta(hours=1))
    starts = [s.start for s in slots]
    assert local(0, 11) in starts and local(0, 13) in starts  # touching is fine
    assert not {local(0, 11, 30), local(0, 12), local(0, 12, 30)} & set(starts)
    assert len(slots) == 15 - 3


def test_free_slots_keep_the_pad_around_busy_times():
    existing = [busy(local(0, 12), 60)]
    slots = free_slots(WORKDAYS, "Europe/Berlin", existing, local(0, 0), local(1, 0), timedelta(hours=1),
                       pad=timedelta(minutes=15))
    starts = {s.start for s in slots}
    assert local(0, 11) not in starts and local(0, 13) not in starts
    assert local(0, 10, 30) in starts and local(0, 13, 30) in starts


def test_free_slots_honour_not_before_and_the_window_end():
    slots = free_slots(WORKDAYS, "Europe/Berlin", [], local(0, 0), local(0, 15), timedelta(hours=1),
                       not_before=local(0, 12))
    assert [s.start for s in slots] == [local(0, 12), local(0, 12, 30), local(0, 13), local(0, 13, 30),
                                        local(0, 14), local(0, 14, 30)]


def test_free_slots_outside_availability_are_none():
    weekend = free_slots(WORKDAYS, "Europe/Berlin", [], local(5, 0), local(7, 0), timedelta(hours=1))
    assert weekend == []


def test_within_availability_inside_and_outside_a_block():
    assert within_availability(WORKDAYS, "Europe/Berlin", local(0, 9), local(0, 10))
    assert within_availability(WORKDAYS, "Europe/Berlin", local(0, 16), local(0, 17))
    assert not within_availability(WORKDAYS, "Europe/Berlin", local(0, 8, 30), local(0, 9, 30))
    assert not within_availability(WORKDAYS, "Europe/Berlin", local(0, 16, 30), local(0, 17, 30))
    assert not within_availability(WORKDAYS, "Europe/Berlin", local(5, 10), local(5, 11))  # Saturday


def test_within_availability_is_judged_in_the_availability_zone():
    # 08:30-09:30 UTC is 09:30-10:30 in Berlin in winter: inside
    assert within_availability(WORKDAYS, "Europe/Berlin", datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
                               datetime(2026, 1, 5, 9, 30, tzinfo=UTC))
    assert not within_availability(WORKDAYS, "UTC", datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
                                   datetime(2026, 1, 5, 9, 30, tzinfo=UTC))


def test_within_availability_refuses_a_session_spanning_midnight():
    late = [WeeklyHours(0, time(20), time.max), WeeklyHours(1, time(0), time(3))]
    assert not within_availability(late, "Europe/Berlin", local(0, 23), local(1, 1))


def test_within_availability_accepts_an_end_at_midnight_only_in_a_block_to_the_end_of_day():
    to_midnight = [WeeklyHours(0, time(20), time.max)]
    assert within_availability(to_midnight, "Europe/Berlin", local(0, 23), local(1, 0))
    assert not within_availability([WeeklyHours(0, time(20), time(23, 59))], "Europe/Berlin",
                                   local(0, 23), local(1, 0))


def test_within_availability_refuses_a_span_of_more_than_a_day():
    whole_week = [WeeklyHours(day, time(0), time.max) for day in range(7)]
    assert not within_availability(whole_week, "Europe/Berlin", local(0, 0), local(2, 0))
