"""The feed is the API, exactly (issue 12, item 6).

One New York practice holds every shape a series can take: COUNT, UNTIL, ended, split
with its parent, sessions_limit, moved (later, earlier, far away, before the first start,
as an exception and as a session), cancelled, late cancelled, no show, paused, time off,
public holidays, several weekdays, monthly on the second Tuesday, and a Berlin series at
02:30 on Sundays through both DST changes. Each feed is read by icalendar and expanded by
recurring_ical_events (independent of the product's dateutil expansion) over two years
and must give exactly the (start, end) instants GET /occurrences gives that user, each
once, cancelled ones left out. Where a move takes an occurrence far from its series, the
expected instants are also written by hand (the API once lost them: issue 12, fault 3).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import holidays
import icalendar
import pytest
import recurring_ical_events

from tests.integration.factories import (API, WEEKDAYS_9_TO_17, Person, book, next_weekday_at,
                                         register, therapist_with_hours)
from therabee.services import clock
from therabee.settings import get_settings

pytestmark = pytest.mark.dated

ZONE = "America/New_York"
BERLIN = "Europe/Berlin"
HOURS = WEEKDAYS_9_TO_17 + [{"weekday": 5, "start": "17:00", "end": "23:59"}]  # Saturday evenings
SPAN = timedelta(days=730)
GONE = ("cancelled", "late_cancelled")
MINUTES = 50

Instants = Counter  # (start, end) in UTC → how many times


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


def _occurrence_id(series_id: str, instant: datetime) -> str:
    return f"{series_id}:{_utc(instant):%Y%m%dT%H%M%SZ}"


def _table(*starts: datetime) -> Instants:
    return Counter((_utc(s), _utc(s) + timedelta(minutes=MINUTES)) for s in starts)


def _working(*starts: datetime) -> list[datetime]:
    """The starts not on a US public holiday in New York (the practice's holidays)."""
    us = holidays.country_holidays("US")
    return [s for s in starts if s.astimezone(ZoneInfo(ZONE)).date() not in us]


def _ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


@dataclass
class Practice:
    therapist: Person
    clients: dict[str, Person] = field(default_factory=dict)
    far: dict[str, Instants] = field(default_factory=dict)  # series id → its instants, by hand


class Builder:
    """Books and changes series as the practice's therapist, for its clients;
    `at(week, weekday, hour)` is a local time in the weeks from the first Monday."""

    def __init__(self, api, monday: date):
        self.api, self.monday = api, monday
        self.therapist = therapist_with_hours(api, ZONE, HOURS)
        self.practice = Practice(self.therapist)

    def at(self, week: int, weekday: int, hour: int, minute: int = 0, zone_name: str = ZONE) -> datetime:
        day = self.monday + timedelta(weeks=week, days=weekday)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone_name))

    def client(self, name: str) -> Person:
        self.practice.clients[name] = register(self.api, "client", ZONE)
        return self.practice.clients[name]

    def book(self, client: Person, start: datetime, rrule: str | None = "FREQ=WEEKLY", **extra) -> str:
        return _ok(book(self.api, self.therapist, self.therapist, start, rrule, MINUTES,
                        client_id=client.id, **extra), 201)["id"]

    def post(self, path: str, body: dict, status: int = 200) -> dict:
        return _ok(self.api.post(f"{API}{path}", headers=self.therapist.auth, json=body), status)

    def move(self, series_id: str, original: datetime, start: datetime) -> None:
        self.post(f"/occurrences/{_occurrence_id(series_id, original)}/move", {"start": start.isoformat()})

    def cancel(self, series_id: str, original: datetime) -> str:
        return self.post(f"/occurrences/{_occurrence_id(series_id, original)}/cancel", {})["status"]


def _second_tuesday_from(day: date) -> date:
    while not (day.weekday() == 1 and 8 <= day.day <= 14):
        day += timedelta(days=1)
    return day


def _clock_change(day: date, zone_name: str) -> timedelta:
    """How far clocks go forward (positive) or back (negative) on `day` in `zone_name`
    (read from zoneinfo, not from the product)."""
    tz = ZoneInfo(zone_name)
    return (datetime(day.year, day.month, day.day, 12, tzinfo=tz).utcoffset()
            - datetime(day.year, day.month, day.day, tzinfo=tz).utcoffset())


def _plain_sunday(day: date, zone_name: str) -> date:
    """`day` (a Sunday), or the next one when clocks change on it."""
    return day + timedelta(weeks=1) if _clock_change(day, zone_name) else day


def _dst_sundays(first: date, zone_name: str) -> tuple[date, date]:
    """The first Sunday from `first` on which clocks go forward, and the first on which
    they go back."""
    sundays = [first + timedelta(weeks=w) for w in range(53)]
    forward = next(d for d in sundays if _clock_change(d, zone_name) > timedelta(0))
    back = next(d for d in sundays if _clock_change(d, zone_name) < timedelta(0))
    return forward, back


@pytest.fixture
def practice(api):
    """Every shape, booked and changed through the API with the clock held at 08:00 on a
    Monday at least a week ahead; the clock then moves to 10:00 that Monday."""
    first = next_weekday_at(0, 8, ZONE)
    state = {"now": _utc(first)}
    clock.set_clock(lambda: state["now"])
    try:
        make = Builder(api, first.date())
        at = make.at

        a, b, c, d, e, f, g, h = (make.client(n) for n in "ABCDEFGH")
        count = make.book(a, at(0, 0, 9), "FREQ=WEEKLY;COUNT=6")
        make.book(a, at(0, 1, 9), f"FREQ=WEEKLY;UNTIL={_utc(at(9, 1, 9)):%Y%m%dT%H%M%SZ}")

        ended = make.book(b, at(0, 2, 9))
        make.post(f"/series/{ended}/end", {"from": at(4, 2, 9).isoformat()})
        parent = make.book(b, at(0, 3, 9))
        assert make.cancel(parent, at(1, 3, 9)) == "cancelled"
        child = make.post(f"/series/{parent}/split", {"from": at(3, 3, 9).isoformat(),
                                                   "start": at(3, 4, 13).isoformat()}, 201)
        assert child["parent_id"] == parent

        moved = make.book(c, at(0, 0, 11))
        opened = make.api.get(f"{API}/occurrences/{_occurrence_id(moved, at(0, 0, 11))}", headers=make.therapist.auth)
        assert _ok(opened)["materialized"]
        make.move(moved, at(0, 0, 11), at(0, 0, 10))  # a session, an hour before the first start
        make.move(moved, at(2, 0, 11), at(2, 1, 13))  # later
        make.move(moved, at(6, 0, 11), at(6, 3, 11))  # later, into time off added below
        make.move(moved, at(5, 0, 11), at(4, 4, 11))  # earlier
        make.move(moved, at(7, 0, 11), at(37, 3, 11))  # far away
        limited = make.book(c, at(0, 4, 9), sessions_limit=4)
        assert make.cancel(limited, at(1, 4, 9)) == "cancelled"

        paused = make.book(d, at(0, 1, 11))
        make.post(f"/series/{paused}/pauses", {"from": str(at(3, 1, 0).date()), "until": str(at(4, 1, 0).date())},
               201)

        twice = make.book(e, at(0, 0, 14), "FREQ=WEEKLY;BYDAY=MO,TH")
        assert make.cancel(twice, at(1, 3, 14)) == "cancelled"
        second_tuesday = _second_tuesday_from(first.date())
        make.book(e, datetime.combine(second_tuesday, time(15), ZoneInfo(ZONE)),
               "FREQ=MONTHLY;BYDAY=2TU")

        late = make.book(f, at(0, 0, 12))
        assert make.cancel(late, at(2, 0, 12)) == "cancelled"

        far = make.book(g, at(0, 2, 13))
        make.post(f"/series/{far}/end", {"from": at(2, 2, 13).isoformat()})
        make.move(far, at(0, 2, 13), at(20, 2, 13))
        make.practice.far[far] = _table(*_working(at(1, 2, 13), at(20, 2, 13)))
        one_off = make.book(g, at(20, 3, 12), None)
        make.move(one_off, at(20, 3, 12), at(1, 3, 12))
        make.practice.far[one_off] = _table(*_working(at(1, 3, 12)))

        sunday = _plain_sunday(first.date() + timedelta(days=6), BERLIN)
        night = make.book(h, datetime.combine(sunday, time(2, 30), ZoneInfo(BERLIN)), timezone=BERLIN)
        forward, back = _dst_sundays(sunday, BERLIN)
        make.post(f"/series/{night}/pauses", {"from": str(forward), "until": str(forward)}, 201)
        folded = datetime(back.year, back.month, back.day, 2, 30, tzinfo=ZoneInfo(BERLIN), fold=0)
        assert make.cancel(night, folded) == "cancelled"  # 02:30 that night is the first one (CEST)

        state["now"] = _utc(at(0, 0, 10))
        make.post(f"/occurrences/{_occurrence_id(count, at(0, 0, 9))}/attendance", {"status": "no_show"})
        assert make.cancel(late, at(0, 0, 12)) == "late_cancelled"

        _ok(api.put(f"{API}/therapists/me/rules", headers=make.therapist.auth, json={
            "buffer_before_minutes": 0, "buffer_after_minutes": 10, "min_notice_hours": 24,
            "booking_window_weeks": 26, "holidays_country": "US"}))
        make.post("/therapists/me/time-off", {"start": at(3, 2, 0).isoformat(), "end": at(3, 3, 0).isoformat()}, 201)
        make.post("/therapists/me/time-off", {"start": at(6, 3, 10).isoformat(), "end": at(6, 3, 12).isoformat()},
               201)
        yield make.practice, at(-1, 6, 8)  # the window starts the Sunday before, 08:00
    finally:
        clock.set_clock(None)


def _calendar(api, who: Person) -> icalendar.Calendar:
    path = urlsplit(_ok(api.get(f"{API}/me", headers=who.auth))["feed_url"]).path
    response = api.get(path)
    assert response.status_code == 200, response.text
    return icalendar.Calendar.from_ical(response.content)


def _feed(api, who: Person, from_: datetime, to: datetime) -> Instants:
    events = recurring_ical_events.of(_calendar(api, who)).between(from_, to)
    return Counter((_utc(e["DTSTART"].dt), _utc(e["DTEND"].dt)) for e in events)


def _listed(api, who: Person, from_: datetime, to: datetime) -> list[dict]:
    """GET /occurrences over `[from_, to)`, page by page within the API's window limit."""
    page = timedelta(days=min(91, get_settings().max_list_days))
    items, start = [], from_
    while start < to:
        end = min(start + page, to)
        items += _ok(api.get(f"{API}/occurrences", headers=who.auth,
                             params={"from": start.isoformat(), "to": end.isoformat()}))["items"]
        start = end
    return [i for i in items if i["status"] not in GONE]


def _instants(items: list[dict]) -> Instants:
    return Counter((datetime.fromisoformat(i["start"]), datetime.fromisoformat(i["end"])) for i in items)


def test_every_feed_expands_to_exactly_the_occurrences_the_api_lists(api, practice):
    shapes, from_ = practice
    to = from_ + SPAN
    people = {"therapist": shapes.therapist, **shapes.clients}
    listed = {name: _listed(api, who, from_, to) for name, who in people.items()}
    fed = {name: _feed(api, who, from_, to) for name, who in people.items()}
    assert sum(_instants(items).total() for items in listed.values()) > 300  # two years of sessions
    wrong = {name: {"feed only": fed[name] - _instants(listed[name]),
                    "api only": _instants(listed[name]) - fed[name]}
             for name in people if fed[name] != _instants(listed[name])}
    assert wrong == {}


def test_occurrences_moved_far_from_their_series_are_where_they_were_moved(api, practice):
    """Written by hand: an ended series whose first occurrence moved twenty weeks on, and a
    one-off twenty weeks out moved to the second week (issue 12, fault 3)."""
    shapes, from_ = practice
    to = from_ + SPAN
    expected = sum(shapes.far.values(), Counter())
    assert _feed(api, shapes.clients["G"], from_, to) == expected
    assert _instants(_listed(api, shapes.clients["G"], from_, to)) == expected
    therapists = [i for i in _listed(api, shapes.therapist, from_, to) if i["series_id"] in shapes.far]
    assert _instants(therapists) == expected


def test_nights_the_clocks_change_are_written_as_the_rule_writes_them(api):
    """02:30 does not exist the night clocks go forward: the rule still writes 02:30 (RFC
    5545 reads it with the offset before the gap), so its EXDATE names 02:30 with the
    series' TZID, not 03:30. The night clocks go back, 02:30 is the first one and the 50
    minutes run across the change: written out as an override, whichever way a calendar
    app adds a DURATION."""
    therapist = therapist_with_hours(api, BERLIN, [{"weekday": d, "start": "00:00", "end": "23:59"}
                                                   for d in range(7)])
    client = register(api, "client", BERLIN)
    sunday = _plain_sunday(next_weekday_at(6, 0, BERLIN).date(), BERLIN)
    forward, back = _dst_sundays(sunday, BERLIN)
    start = datetime.combine(sunday, time(2, 30), ZoneInfo(BERLIN))
    series_id = _ok(book(api, therapist, therapist, start, client_id=client.id), 201)["id"]
    _ok(api.post(f"{API}/series/{series_id}/pauses", headers=therapist.auth,
                 json={"from": str(forward), "until": str(forward)}), 201)
    calendar = _calendar(api, client)
    [master] = [e for e in calendar.walk("VEVENT") if "RRULE" in e]
    assert master["EXDATE"].params["TZID"] == BERLIN
    assert [d.dt.replace(tzinfo=None) for d in master["EXDATE"].dts] == [datetime.combine(forward, time(2, 30))]
    overrides = {e["RECURRENCE-ID"].dt.replace(tzinfo=None): e for e in calendar.walk("VEVENT")
                 if "RECURRENCE-ID" in e}
    override = overrides[datetime.combine(back, time(2, 30))]
    assert override["RECURRENCE-ID"].params["TZID"] == BERLIN
    first_of_two = datetime.combine(back, time(2, 30, fold=0), ZoneInfo(BERLIN))
    assert (_utc(override["DTSTART"].dt), _utc(override["DTEND"].dt)) == next(iter(_table(first_of_two)))
    from_, to = start - timedelta(days=1), start + timedelta(weeks=53, days=-1)
    assert _feed(api, client, from_, to) == _instants(_listed(api, client, from_, to))
