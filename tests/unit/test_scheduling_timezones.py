"""DESIGN.md rule 4: wall-clock time is kept across DST; gaps move forward, overlaps take the first instant."""

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone

import pytest

from therabee.scheduling.expand import SeriesSpec, advance_cursor, expand
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import UnknownZone, to_instant, to_local, utc, zone

UTC = timezone.utc
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney"]

# (zone, spring-forward Sunday, local time inside the gap)
SPRING_FORWARD = [
    ("America/New_York", datetime(2026, 3, 8), time(2, 30)),
    ("Europe/Berlin", datetime(2026, 3, 29), time(2, 30)),
    ("Australia/Sydney", datetime(2026, 10, 4), time(2, 30)),
]
# (zone, fall-back Sunday, ambiguous local time, its first instant in UTC)
FALL_BACK = [
    ("America/New_York", datetime(2026, 11, 1), time(1, 30), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2026, 10, 25), time(2, 30), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
    ("Australia/Sydney", datetime(2026, 4, 5), time(2, 30), datetime(2026, 4, 4, 15, 30, tzinfo=UTC)),
]


def weekly_series(zone_name: str, first_local: datetime, rule: str = "FREQ=WEEKLY") -> SeriesSpec:
    tz = zone(zone_name)
    return SeriesSpec(id="s1", start=to_instant(first_local, tz), zone=zone_name,
                      duration=timedelta(minutes=50), rule=parse_rule(rule, tz))


@pytest.mark.parametrize("zone_name", ZONES)
def test_weekly_10am_series_stays_10am_local_for_52_weeks_across_both_dst_changes(zone_name):
    tz = zone(zone_name)
    series = weekly_series(zone_name, datetime(2026, 1, 5, 10, 0))
    found = expand(series, series.start, series.start + timedelta(weeks=52))
    assert len(found) == 52
    locals_ = [o.start.astimezone(tz) for o in found]
    assert all(t.time() == time(10, 0) for t in locals_)
    assert all(t.weekday() == 0 for t in locals_)
    offsets = [t.utcoffset() for t in locals_]
    changes = sum(1 for a, b in zip(offsets, offsets[1:]) if a != b)
    assert changes == 2  # the year really crossed both transitions
    assert len({o.start.astimezone(UTC).time() for o in found}) == 2


@pytest.mark.parametrize("zone_name", ZONES)
def test_weekly_series_from_a_cursor_stays_10am_local(zone_name):
    tz = zone(zone_name)
    series = weekly_series(zone_name, datetime(2026, 1, 5, 10, 0))
    later = to_instant(datetime(2026, 8, 3), tz)  # a Monday, local midnight
    series = replace(series, cursor=advance_cursor(series, later))
    assert series.cursor.index == 29
    found = expand(series, later, to_instant(datetime(2027, 1, 4), tz))
    assert len(found) == 22
    assert all(o.start.astimezone(tz).time() == time(10, 0) for o in found)


@pytest.mark.parametrize("zone_name, day, wall", SPRING_FORWARD)
def test_to_instant_moves_a_missing_local_time_forward_by_the_gap(zone_name, day, wall):
    tz = zone(zone_name)
    instant = to_instant(datetime.combine(day.date(), wall), tz)
    assert instant.tzinfo is not None and instant.utcoffset() == timedelta(0)
    assert instant.astimezone(tz).time() == time(3, 30)
    assert instant.astimezone(tz).date() == day.date()
    # 02:30 in the old (standard) offset: exactly one hour after 01:30 that day
    assert instant - to_instant(datetime.combine(day.date(), time(1, 30)), tz) == timedelta(hours=1)


@pytest.mark.parametrize("zone_name, day, wall", SPRING_FORWARD)
def test_series_at_0230_lands_at_0330_on_the_spring_forward_day_and_returns_after(zone_name, day, wall):
    tz = zone(zone_name)
    series = weekly_series(zone_name, datetime.combine((day - timedelta(weeks=1)).date(), wall))
    found = expand(series, series.start, to_instant(day + timedelta(weeks=1, days=1), tz))
    locals_ = [o.start.astimezone(tz) for o in found]
    assert [t.date() for t in locals_] == [(day + timedelta(weeks=k)).date() for k in (-1, 0, 1)]
    assert [t.time() for t in locals_] == [time(2, 30), time(3, 30), time(2, 30)]


@pytest.mark.parametrize("zone_name, day, wall", SPRING_FORWARD)
def test_cursor_on_the_spring_forward_occurrence_does_not_shift_later_ones(zone_name, day, wall):
    tz = zone(zone_name)
    series = weekly_series(zone_name, datetime.combine((day - timedelta(weeks=1)).date(), wall))
    cursor = advance_cursor(series, to_instant(day + timedelta(days=1), tz))
    assert cursor.start.astimezone(tz).date() == day.date() and cursor.index == 1
    resumed = replace(series, cursor=cursor)
    window_start = to_instant(day + timedelta(days=1), tz)
    found = expand(resumed, window_start, window_start + timedelta(weeks=4))
    assert [o.start.astimezone(tz).time() for o in found] == [time(2, 30)] * 4


@pytest.mark.parametrize("zone_name, day, wall", SPRING_FORWARD)
def test_daily_series_through_the_gap_keeps_one_occurrence_a_day(zone_name, day, wall):
    tz = zone(zone_name)
    series = weekly_series(zone_name, datetime.combine((day - timedelta(days=2)).date(), wall), "FREQ=DAILY")
    found = expand(series, series.start, to_instant(day + timedelta(days=3), tz))
    assert [o.start.astimezone(tz).date() for o in found] == [
        (day + timedelta(days=k)).date() for k in range(-2, 3)]
    assert [o.start.astimezone(tz).time() for o in found] == [wall, wall, time(3, 30), wall, wall]


@pytest.mark.parametrize("zone_name, day, wall, first_instant", FALL_BACK)
def test_to_instant_takes_the_first_of_an_ambiguous_local_time(zone_name, day, wall, first_instant):
    tz = zone(zone_name)
    instant = to_instant(datetime.combine(day.date(), wall), tz)
    assert instant == first_instant
    later = datetime.combine(day.date(), wall).replace(tzinfo=tz, fold=1).astimezone(UTC)
    assert later - instant == timedelta(hours=1)  # really ambiguous: the second is an hour on


@pytest.mark.parametrize("zone_name, day, wall, first_instant", FALL_BACK)
def test_series_on_the_fall_back_day_takes_the_first_instant(zone_name, day, wall, first_instant):
    tz = zone(zone_name)
    series = weekly_series(zone_name, datetime.combine((day - timedelta(weeks=1)).date(), wall))
    found = expand(series, series.start, to_instant(day + timedelta(weeks=1, days=1), tz))
    assert len(found) == 3
    assert found[1].start == first_instant
    assert found[1].original_start == first_instant
    shown = found[1].start.astimezone(tz)
    assert shown.time() == wall and shown.fold == 0
    assert all(o.start.astimezone(tz).time() == wall for o in found)


def test_to_local_and_to_instant_round_trip_outside_transitions():
    tz = zone("Europe/Berlin")
    local = datetime(2026, 7, 1, 9, 15)
    assert to_local(to_instant(local, tz), tz) == local
    assert to_instant(local, tz) == datetime(2026, 7, 1, 7, 15, tzinfo=UTC)


def test_utc_refuses_naive_datetimes_and_normalizes_aware_ones():
    with pytest.raises(ValueError):
        utc(datetime(2026, 1, 1, 10, 0))
    berlin = datetime(2026, 1, 1, 10, 0, tzinfo=zone("Europe/Berlin"))
    assert utc(berlin) == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert utc(berlin).tzinfo == UTC


@pytest.mark.parametrize("name", ZONES + ["UTC", "Asia/Kolkata"])
def test_known_zone_is_returned(name):
    assert zone(name).key == name


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "america/new_york", "EST5EDT ", "../../etc/passwd",
                                  "Europe/Berlin/", None, 5])
def test_unknown_zone_raises_unknown_zone(name):
    with pytest.raises(UnknownZone):
        zone(name)


def test_expanding_a_series_in_an_unknown_zone_raises_unknown_zone():
    series = SeriesSpec("s1", datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "Nowhere/Town", timedelta(hours=1),
                        parse_rule("FREQ=WEEKLY", zone("UTC")))
    with pytest.raises(UnknownZone):
        expand(series, series.start, series.start + timedelta(weeks=1))
