"""The pure expansion with exceptions, pauses, sessions and time off equals the reference calendar.

`therabee.scheduling.expand.expand` is given a series with cancellations, moves (near and
far, also before the series' start), sessions (moved or not, in any status), pauses, time
off, an end and a `sessions_limit`; the reference calendar (reliability/reference_calendar.py,
no product code) is given the same changes, and both must list the same occurrences.

The inputs are the states the services can produce: a session whose occurrence does not
take place (paused, on time off, past the series' end or its sessions_limit) was cancelled
by the change that did that (series_changes.pause, practice.add_time_off,
materialize.cancel_from), so no active session is generated there. `make test-deep`
(HYPOTHESIS_PROFILE=deep) runs many more examples.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reliability import reference_calendar as ref
from therabee.scheduling.expand import ExceptionSpec, Interval, PauseSpec, SeriesSpec, SessionSpec, expand
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import zone

UTC = timezone.utc
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
SESSION_STATUSES = ["scheduled", "scheduled", "cancelled", "late_cancelled", "completed", "no_show"]
settings.register_profile("reference", max_examples=300, deadline=None)
settings.register_profile("reference-deep", max_examples=5000, deadline=None)
PROPERTY = settings.get_profile("reference-deep" if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else "reference")


def _transitions(zone_name: str) -> list[datetime]:
    """Local midnights of the days whose UTC offset changes (DST), 2025-2028."""
    tz = zone(zone_name)
    days = [datetime(2025, 1, 1) + timedelta(days=k) for k in range(4 * 365)]
    return [d for d in days
            if (d + timedelta(days=1)).replace(tzinfo=tz).utcoffset() != d.replace(tzinfo=tz).utcoffset()]


TRANSITIONS = {name: _transitions(name) for name in ZONES}


@st.composite
def rule_texts(draw, first: datetime) -> str | None:
    """A rule whose first local start is `first` (or later, for a BYDAY list)."""
    weekday = first.weekday()
    kind = draw(st.sampled_from(["one-off", "weekly", "weekly", "days", "daily", "monthly"]))
    if kind == "one-off":
        return None
    parts = {"weekly": ["FREQ=WEEKLY"], "daily": ["FREQ=DAILY"], "monthly": ["FREQ=MONTHLY"]}.get(kind)
    if kind == "days":
        other = draw(st.lists(st.sampled_from(DAYS), max_size=2))
        parts = ["FREQ=WEEKLY", "BYDAY=" + ",".join(dict.fromkeys([DAYS[weekday], *other]))]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 3))}")
    ending = draw(st.sampled_from(["none", "none", "count", "until"]))
    if ending == "count":
        parts.append(f"COUNT={draw(st.integers(1, 12))}")
    elif ending == "until":
        until = first + timedelta(days=draw(st.integers(0, 120)), hours=draw(st.integers(-3, 3)))
        parts.append(f"UNTIL={until:%Y%m%d}" if draw(st.booleans()) else f"UNTIL={until:%Y%m%dT%H%M%S}Z")
    return ";".join(parts)


@st.composite
def worlds(draw) -> tuple[SeriesSpec, ref.Series, dict]:
    """A series, the product's inputs for it, and the same series with its changes for the reference."""
    zone_name = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(TRANSITIONS[zone_name])) + timedelta(days=draw(st.integers(-20, 3)))
    local = day + timedelta(hours=draw(st.sampled_from([0, 1, 2, 2, 3, 9, 17, 23])),
                            minutes=draw(st.sampled_from([0, 30])))
    text = draw(rule_texts(local))
    duration = timedelta(minutes=draw(st.sampled_from([30, 50, 90])))
    probe = ref.Series("s1", "t1", "c1", ref.to_instant(local, zone_name), zone_name, duration, text)
    firsts = ref.rule_starts(probe, probe.start + timedelta(days=800))
    assume(firsts)  # an UNTIL before the first start
    start = firsts[0]  # the rule's first occurrence
    series = ref.Series("s1", "t1", "c1", start, zone_name, duration, text,
                        sessions_limit=draw(st.one_of(st.none(), st.integers(1, 8))))
    originals = ref.rule_starts(series, start + timedelta(weeks=30))
    if draw(st.booleans()):
        series.ends_before = draw(st.sampled_from(originals))
    pauses = []
    for _ in range(draw(st.integers(0, 2))):
        first = ref.to_local(draw(st.sampled_from(originals)), zone_name).date() + timedelta(
            days=draw(st.integers(-3, 3)))
        pauses.append((first, first + timedelta(days=draw(st.integers(0, 20)))))
    away = []
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.sampled_from(originals)) + timedelta(hours=draw(st.integers(-30, 30)))
        away.append((at, at + timedelta(hours=draw(st.sampled_from([1, 5, 24, 24 * 6])))))
    series.pauses = pauses

    exceptions, sessions = [], []
    for original in originals:
        change = draw(st.sampled_from(["none", "none", "none", "cancel", "move", "session"]))
        if change == "none":
            continue
        start_now, length = original, duration
        if change != "cancel" and draw(st.booleans()):  # moved: near, or weeks away either way
            start_now = original + draw(st.one_of(
                st.integers(-48, 48).map(lambda h: timedelta(hours=h)),
                st.integers(-10, 12).map(lambda w: timedelta(weeks=w, hours=1))))
            length = timedelta(minutes=draw(st.sampled_from([30, 50, 60])))
        if change == "cancel":
            status = draw(st.sampled_from(["cancelled", "late_cancelled"]))
            exceptions.append(ExceptionSpec(original, status))
        elif change == "move":
            status = "scheduled"
            exceptions.append(ExceptionSpec(original, "moved", start_now, length))
        else:
            status = draw(st.sampled_from(SESSION_STATUSES))
            sessions.append(SessionSpec(original, start_now, start_now + length, status))
        if status != "scheduled":
            series.status[original] = status
        if (start_now, length) != (original, duration):
            series.moved[original] = (start_now, length)
    sessions = [_settled(series, session, away) for session in sessions]

    spec = SeriesSpec("s1", start, zone_name, duration, parse_rule(text, zone(zone_name), max_count=10**6),
                      sessions_limit=series.sessions_limit, ends_before=series.ends_before)
    inputs = {"exceptions": exceptions, "sessions": sessions,
              "pauses": [PauseSpec(a, b) for a, b in pauses], "time_off": [Interval(a, b) for a, b in away]}
    return spec, series, {"away": away, **inputs}


def _settled(series: ref.Series, session: SessionSpec, away: list) -> SessionSpec:
    """The session as the services leave it: one that does not take place (past the end or
    the sessions_limit, paused, on time off) was cancelled by the change that did that."""
    status = session.status
    if status not in ref.NOT_HAPPENING and not ref.Calendar([series], {"t1": away}).occurrence(
            series.id, session.original_start):
        status = "cancelled"
    if status != "scheduled":
        series.status[session.original_start] = status
    return replace(session, status=status)


def _shown(occurrences) -> list[tuple]:
    """By start; two at one start (an occurrence moved onto another) by original start."""
    return sorted((o.start, o.original_start, o.end, o.status) for o in occurrences)


def _listed_by_product(spec: SeriesSpec, series: ref.Series, world: dict, from_: datetime,
                       to: datetime) -> list[tuple]:
    found = expand(spec, from_, to, world["exceptions"], world["pauses"], world["sessions"], world["time_off"])
    # A session cancelled because the series ended (its end or its sessions_limit) may stay
    # listed as cancelled: a record of what had been booked. Nothing else may be extra.
    kept = set(ref.kept_originals(series, world["away"], to + timedelta(weeks=60)))
    return _shown(o for o in found if o.status not in ref.NOT_HAPPENING or o.original_start in kept)


@PROPERTY
@given(data=st.data())
def test_expand_with_every_kind_of_change_equals_the_reference(data):
    spec, series, world = data.draw(worlds())
    from_ = series.start + timedelta(days=data.draw(st.integers(-80, 150)))
    to = from_ + timedelta(days=data.draw(st.integers(1, 200)))
    expected = _shown(ref.series_occurrences(series, world["away"], from_, to))
    assert _listed_by_product(spec, series, world, from_, to) == expected


@PROPERTY
@given(data=st.data())
def test_expand_of_the_whole_life_of_a_series_equals_the_reference(data):
    spec, series, world = data.draw(worlds())
    from_, to = series.start - timedelta(weeks=12), series.start + timedelta(weeks=45)
    expected = _shown(ref.series_occurrences(series, world["away"], from_, to))
    assert _listed_by_product(spec, series, world, from_, to) == expected


# --- the reference itself, on hand-computed cases (an oracle that is wrong proves nothing) ---

def _weekly(zone_name: str, local: datetime, rrule: str = "FREQ=WEEKLY", **changes) -> ref.Series:
    return ref.Series("s", "t", "c", ref.to_instant(local, zone_name), zone_name, timedelta(minutes=50),
                      rrule, **changes)


def test_reference_keeps_wall_clock_time_across_dst_and_applies_the_gap_and_fold_policy():
    ny = "America/New_York"
    series = _weekly(ny, datetime(2026, 3, 1, 2, 30))  # Sunday 02:30; 8 March 02:30 does not exist
    starts = ref.rule_starts(series, datetime(2026, 3, 16, tzinfo=UTC))
    assert [s.astimezone(zone(ny)).strftime("%m-%d %H:%M %Z") for s in starts] == [
        "03-01 02:30 EST", "03-08 03:30 EDT", "03-15 02:30 EDT"]
    fall = _weekly(ny, datetime(2026, 10, 25, 1, 30))  # 1 November 01:30 happens twice: the first
    assert ref.rule_starts(fall, datetime(2026, 11, 2, tzinfo=UTC))[1] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_reference_applies_end_count_until_and_sessions_limit():
    berlin = "Europe/Berlin"
    first = datetime(2026, 6, 1, 10)  # a Monday
    end = datetime(2027, 1, 1, tzinfo=UTC)
    assert len(ref.rule_starts(_weekly(berlin, first, "FREQ=WEEKLY;COUNT=3"), end)) == 3
    assert len(ref.rule_starts(_weekly(berlin, first, "FREQ=WEEKLY;UNTIL=20260615"), end)) == 3
    assert len(ref.rule_starts(_weekly(berlin, first, "FREQ=WEEKLY;UNTIL=20260615T075959Z"), end)) == 2
    ended = _weekly(berlin, first, ends_before=ref.to_instant(datetime(2026, 6, 15, 10), berlin))
    assert len(ref.rule_starts(ended, end)) == 2
    second = ref.to_instant(datetime(2026, 6, 8, 10), berlin)
    third = ref.to_instant(datetime(2026, 6, 15, 10), berlin)
    limited = _weekly(berlin, first, sessions_limit=3, status={second: "cancelled"},
                      pauses=[(date(2026, 6, 15), date(2026, 6, 15))])
    kept = ref.kept_originals(limited, [], end)
    assert len(kept) == 5 and third in kept  # 1 held, 1 cancelled, 1 paused, 2 held


def test_reference_moves_hides_on_time_off_and_finds_free_slots():
    utc = "UTC"
    series = _weekly(utc, datetime(2026, 6, 1, 10), "FREQ=WEEKLY;COUNT=2")
    second = datetime(2026, 6, 8, 10, tzinfo=UTC)
    series.moved[second] = (datetime(2026, 9, 1, 15, tzinfo=UTC), timedelta(minutes=30))
    first_off = (datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 10, 1, tzinfo=UTC))
    calendar = ref.Calendar([series], {"t": [first_off]})
    assert calendar.occurrences(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 30, tzinfo=UTC)) == []
    moved = calendar.occurrences(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC))
    assert [(o.original_start, o.start, o.end) for o in moved] == [
        (second, datetime(2026, 9, 1, 15, tzinfo=UTC), datetime(2026, 9, 1, 15, 30, tzinfo=UTC))]
    hours = [{"weekday": 1, "start": "14:00", "end": "17:00"}]  # Tuesday 1 September
    slots = calendar.free_slots("t", hours, utc, datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC),
                                timedelta(minutes=60), pad=timedelta(minutes=10))
    assert [s.strftime("%H:%M") for s in slots] == ["16:00"]  # earlier ones touch the session or its buffers
    late = [{"weekday": 1, "start": "23:00", "end": "24:00"}]
    assert ref.within_hours(late, utc, datetime(2026, 9, 1, 23, tzinfo=UTC), datetime(2026, 9, 2, tzinfo=UTC))


def test_reference_keeps_the_time_of_an_occurrence_hidden_by_time_off():
    """Monday 1 June 2026 10:00-10:50 UTC, time off 09:00-10:01: hidden, yet its time is not
    free (it comes back when the time off goes); after the time off, 10:01-10:50 stays busy."""
    series = _weekly("UTC", datetime(2026, 6, 1, 10), "FREQ=WEEKLY;COUNT=1")
    off = (datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 10, 1, tzinfo=UTC))
    calendar = ref.Calendar([series], {"t": [off]})
    day = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 2, tzinfo=UTC))
    assert calendar.occurrences(*day) == []
    assert [(o.start, o.end) for o in calendar.reserved(*day, "t")] == [
        (datetime(2026, 6, 1, 10, tzinfo=UTC), datetime(2026, 6, 1, 10, 50, tzinfo=UTC))]
    hours = [{"weekday": 0, "start": "09:00", "end": "12:00"}]
    slots = calendar.free_slots("t", hours, "UTC", *day, timedelta(minutes=30))
    assert [s.strftime("%H:%M") for s in slots] == ["11:00", "11:30"]
