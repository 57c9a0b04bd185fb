"""Expansion properties: any window, from any cursor, split anywhere, equals a brute-force expansion."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from itertools import islice

from dateutil.rrule import rrulestr
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from therabee.scheduling.expand import SeriesSpec, advance_cursor, expand, rule_starts
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import zone

UTC = timezone.utc
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
PROPERTY = settings(max_examples=200, deadline=None)


def _transition_days(zone_name: str) -> list[datetime]:
    """Local midnights of the days whose UTC offset changes (DST), 2024-2027."""
    tz = zone(zone_name)
    days = [datetime(2024, 1, 1) + timedelta(days=k) for k in range(4 * 365 + 2)]
    return [d for d in days if (d + timedelta(days=1)).replace(tzinfo=tz).utcoffset() != d.replace(tzinfo=tz).utcoffset()]


TRANSITIONS = {name: _transition_days(name) for name in ZONES}


@st.composite
def rule_texts(draw) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]))
    parts = [f"FREQ={freq}"]
    interval = draw(st.integers(1, 4))
    if interval > 1 or draw(st.booleans()):
        parts.append(f"INTERVAL={interval}")
    if freq == "WEEKLY":
        days = draw(st.lists(st.sampled_from(DAYS), unique=True, max_size=4))
        if days:
            parts.append("BYDAY=" + ",".join(days))
        if draw(st.booleans()):
            parts.append("WKST=" + draw(st.sampled_from(["MO", "SU"])))
    if freq == "MONTHLY":
        kind = draw(st.sampled_from(["plain", "nth", "monthday"]))
        if kind == "nth":
            n = draw(st.sampled_from([1, 2, 3, 4, -1]))
            parts.append(f"BYDAY={n}{draw(st.sampled_from(DAYS))}")
        elif kind == "monthday":
            days = draw(st.lists(st.sampled_from([1, 5, 13, 20, 28, -1]), unique=True, min_size=1, max_size=2))
            parts.append("BYMONTHDAY=" + ",".join(map(str, days)))
    ending = draw(st.sampled_from(["none", "count", "until"]))
    if ending == "count":
        parts.append(f"COUNT={draw(st.integers(1, 60))}")
    elif ending == "until":
        until = datetime(2024, 1, 1) + timedelta(days=draw(st.integers(0, 4 * 365 + 200)))
        parts.append(f"UNTIL={until:%Y%m%d}")
    return ";".join(draw(st.permutations(parts)))


@st.composite
def series_specs(draw) -> SeriesSpec:
    """A series whose start is its rule's first occurrence (the candidate start, expanded once)."""
    zone_name = draw(st.sampled_from(ZONES))
    tz = zone(zone_name)
    rule = parse_rule(draw(rule_texts()), tz)
    if draw(st.booleans()):  # near a DST change, where wall-clock bugs live
        day = draw(st.sampled_from(TRANSITIONS[zone_name])) + timedelta(days=draw(st.integers(-15, 1)))
    else:
        day = datetime(2024, 1, 1) + timedelta(days=draw(st.integers(0, 4 * 365 - 1)))
    candidate_local = day + timedelta(
        hours=draw(st.sampled_from([0, 1, 2, 2, 2, 3, 8, 10, 17, 23])),
        minutes=draw(st.sampled_from([0, 30])))
    candidate = candidate_local.replace(tzinfo=tz).astimezone(UTC)
    duration = timedelta(minutes=draw(st.sampled_from([30, 50, 90])))
    probe = SeriesSpec("s1", candidate, zone_name, duration, rule)
    firsts = rule_starts(probe, candidate, candidate + timedelta(days=5 * 366))
    assume(firsts)
    return replace(probe, start=firsts[0])


def brute_force(series: SeriesSpec, from_: datetime, to: datetime) -> list[datetime]:
    """Every rule start in [from_, to) by dateutil from the first start, policy of DESIGN.md rule 4."""
    tz = zone(series.zone)
    rule = series.rule
    local_first = series.start.astimezone(tz).replace(tzinfo=None)
    locals_ = rrulestr(rule.body, dtstart=local_first)
    if rule.count is not None:
        locals_ = islice(locals_, rule.count)
    starts = []
    for local in locals_:
        instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
        if instant >= to or (rule.until is not None and instant > rule.until):
            break
        if instant >= from_:
            starts.append(instant)
    return starts


@st.composite
def windows(draw, series: SeriesSpec) -> tuple[datetime, datetime]:
    if draw(st.booleans()):  # just after a DST change, so cursors sit on or near it
        tz = zone(series.zone)
        later = [d for d in TRANSITIONS[series.zone] if d.replace(tzinfo=tz) > series.start]
        day = later[0] if later and draw(st.booleans()) else draw(st.sampled_from(later or [datetime(2028, 1, 1)]))
        from_ = (day + timedelta(hours=draw(st.integers(24, 72)))).replace(tzinfo=tz).astimezone(UTC)
    else:
        from_ = series.start + timedelta(hours=draw(st.integers(-30 * 24, 800 * 24)))
    return from_, from_ + timedelta(hours=draw(st.integers(0, 120 * 24)))


def shown(occurrences) -> list[tuple]:
    return [(o.original_start, o.start, o.end, o.status, o.materialized) for o in occurrences]


def expected(series: SeriesSpec, starts: list[datetime]) -> list[tuple]:
    return [(s, s, s + series.duration, "scheduled", False) for s in starts]


@PROPERTY
@given(data=st.data())
def test_expand_of_any_window_equals_brute_force_from_the_first_start(data):
    series = data.draw(series_specs())
    from_, to = data.draw(windows(series))
    assert shown(expand(series, from_, to)) == expected(series, brute_force(series, from_, to))


@PROPERTY
@given(data=st.data())
def test_expand_from_a_cursor_equals_expand_from_the_first_start(data):
    series = data.draw(series_specs())
    from_, to = data.draw(windows(series))
    pivot = from_ - timedelta(hours=data.draw(st.one_of(st.integers(0, 48), st.integers(0, 400 * 24))))
    cursor = advance_cursor(series, pivot)
    before = brute_force(series, series.start, pivot)
    if before:
        assert cursor.start == before[-1]  # the last occurrence before the pivot...
        assert cursor.index == len(before) - 1  # ...and how many came before it
    else:
        assert cursor is None
    resumed = replace(series, cursor=cursor)
    assert shown(expand(resumed, from_, to)) == expected(series, brute_force(series, from_, to))
    assert rule_starts(resumed, from_, to) == brute_force(series, from_, to)


@PROPERTY
@given(data=st.data())
def test_expand_of_a_window_split_in_two_equals_the_whole(data):
    series = data.draw(series_specs())
    from_, to = data.draw(windows(series))
    middle = from_ + (to - from_) * data.draw(st.floats(0, 1))
    middle = min(max(middle, from_), to)
    whole = expand(series, from_, to)
    assert expand(series, from_, middle) + expand(series, middle, to) == whole
    if data.draw(st.booleans()):
        with_cursor = replace(series, cursor=advance_cursor(series, middle))
        assert expand(series, from_, middle) + expand(with_cursor, middle, to) == whole


@PROPERTY
@given(data=st.data())
def test_expanded_occurrences_are_ordered_unique_and_inside_the_window(data):
    series = data.draw(series_specs())
    from_, to = data.draw(windows(series))
    found = expand(series, from_, to)
    starts = [o.start for o in found]
    assert starts == sorted(set(starts))
    assert all(from_ <= s < to for s in starts)
    assert all(o.series_id == "s1" and o.id.original_start == o.original_start for o in found)
    if series.rule.count is not None:
        assert len(found) <= series.rule.count
