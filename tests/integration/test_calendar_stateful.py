"""The calendar, driven through the API in random order, always equals the reference model.

A hypothesis state machine books (one-off, weekly, several weekdays, COUNT, UNTIL,
sessions_limit), cancels, moves (near, weeks away, before the series' start), pauses and
unpauses, adds and removes time off, ends and splits series, runs the horizon job and
advances the clock, on PostgreSQL, the clock pinned a few days before a DST change in
America/New_York, Europe/Berlin or Australia/Sydney, or before a day far from any (the
simplest choice, so a failure shrinks to a DST night only when it needs one). The model
keeps what the API acknowledged (2xx) in the reference calendar
(reliability/reference_calendar.py, no product code); after every step that did something:
- the therapist's `GET /occurrences` (20 weeks, and the week around the last change) and
  each client's equal the reference, and no two active occurrences of the therapist overlap;
- `GET /therapists/{id}/slots` (the two days around the last change) equals the reference;
- every acknowledged series is still listed, `active` while it has an occurrence to come
  that is not cancelled (paused ones and those on time off count), else `ended`;
- with FEED=1, the calendar feed expanded by recurring_ical_events gives the same instants.
After each tick every occurrence inside the horizon has exactly one session, at its time.
Each change is judged before it is sent: one the reference says must be refused (it
collides, lands on time off or outside the hours) must not be acknowledged, and one clear
of everything must not be refused.

Where the product has no written rule the reference decides: a split carries the old
series' later cancellations and moves to the new series' occurrence on the same local date
(issue 12, fault 9) and leaves pauses with the old series; buffers keep sessions apart from
each other, not from time off; a session cancelled because its series ended may stay listed.

`make test` runs 200 examples, the same each time; `make test-deep` (HYPOTHESIS_PROFILE=deep)
2000 longer random ones.
"""

from __future__ import annotations

import copy
import os
from datetime import datetime, time, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from reliability import reference_calendar as ref
from tests.integration.factories import API, register
from therabee.services import clock
from therabee.settings import get_settings

UTC = timezone.utc
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney"]
HOURS = {"all day": [{"weekday": d, "start": "00:00", "end": "23:30"} for d in range(7)],
         "office": [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(5)]
         + [{"weekday": 5, "start": "09:00", "end": "13:00"}],
         "to midnight": [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]}
WALL_TIMES = [time(0, 30), time(1, 30), time(2, 30), time(8), time(9, 30), time(10), time(13), time(17, 30),
              time(19), time(23)]
BOOKING_DAYS = [0, 1, 2, 3, 6, 7, 9, 13, 20, 27, 35]  # days from today: many inside the horizon
PATTERNS = ["one-off", "one-off", "FREQ=WEEKLY", "FREQ=WEEKLY;BYDAY={d},{d2}", "FREQ=WEEKLY;COUNT=3",
            "FREQ=WEEKLY;INTERVAL=2", "FREQ=DAILY;COUNT=4", "FREQ=WEEKLY;UNTIL={until}",
            "FREQ=WEEKLY;BYDAY={d},{d3};COUNT=5"]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
SLOT_MINUTES = 50
THERAPISTS, CLIENTS = 1, 2  # every step lists each of them: that is where the run's time goes
PICK = st.one_of(st.just(0), st.integers(0, 10**4))  # an index into what the model holds: often the first

# `make test`: the same 200 examples on every run (derandomized), so CI never turns red by
# luck; `make test-deep`: 2000 longer random ones, a new draw each time.
settings.register_profile("stateful", max_examples=200, stateful_step_count=12, deadline=None,
                          derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("stateful-deep", parent=settings.get_profile("stateful"), max_examples=2000,
                          stateful_step_count=30, derandomize=False)
PROFILE = settings.get_profile("stateful-deep" if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else "stateful")


def _dst_changes(now: datetime) -> list[datetime]:
    """The next two UTC-offset changes of each zone after `now` (to the hour), sorted, after a
    plain hour first: the middle of the longest stretch between two of them. Hypothesis
    shrinks towards the first, so a difference it reports on a DST night needs that night."""
    found = []
    for name in ZONES:
        tz, hour, changes = ZoneInfo(name), now.replace(minute=0, second=0, microsecond=0), []
        while len(changes) < 2:
            hour += timedelta(hours=1)
            if hour.astimezone(tz).utcoffset() != (hour - timedelta(hours=1)).astimezone(tz).utcoffset():
                changes.append(hour)
        found += changes
    found.sort()
    first, last = max(zip(found, found[1:]), key=lambda pair: pair[1] - pair[0])
    return [(first + (last - first) / 2).replace(minute=0)] + found


def _z(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _occurrence_id(series_id: str, original: datetime) -> str:
    return f"{series_id}:{original.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _rule_parts(text: str | None) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.upper().removeprefix("RRULE:").split(";")) if text else {}


class CalendarMachine(RuleBasedStateMachine):
    """Set `api`, `therapists`, `clients` and `dst_changes` (class attributes) before running."""

    api = therapists = clients = dst_changes = None
    check_feed = False
    feeds: dict[str, str] = {}

    def __init__(self):
        super().__init__()
        from therabee.db.engine import get_engine

        with get_engine().begin() as connection:  # the people stay, their calendars go
            for table in ("sessions", "exceptions", "pauses", "series", "time_off", "practice_rules", "availability"):
                connection.execute(sa.text(f"DELETE FROM {table}"))  # faster than TRUNCATE on a few rows
        self.model = ref.Calendar([], {t.id: [] for t in self.therapists})
        self.names: dict[str, str] = {}  # series id -> s1, s2, ... in messages
        self.pause_ids: dict[str, tuple[str, tuple]] = {}  # pause id -> (series id, (from, until))
        self.time_off_ids: dict[str, tuple[str, tuple]] = {}  # id -> (therapist id, (start, end))
        self.hours: dict[str, tuple[list, str]] = {}  # therapist id -> (weekly blocks, zone)
        self.rules: dict[str, dict] = {}
        self.touched = None  # since the last check: None, "therapist" (a request) or "all" (a change)

    @initialize(change=st.integers(0, 6), days_before=st.integers(-1, 10), hour=st.integers(0, 23),
                zones=st.lists(st.sampled_from(ZONES), min_size=THERAPISTS, max_size=THERAPISTS),
                hours=st.lists(st.sampled_from(sorted(HOURS)), min_size=THERAPISTS, max_size=THERAPISTS),
                buffers=st.sampled_from([(0, 0), (0, 10), (5, 10)]), min_notice=st.sampled_from([0, 24]))
    def set_up(self, change, days_before, hour, zones, hours, buffers, min_notice):
        dst = self.dst_changes[change]
        self.now = (dst - timedelta(days=days_before)).replace(hour=hour)
        clock.set_clock(lambda: self.now)
        self.focus = dst
        self.window = (self.now - timedelta(days=2), self.now + timedelta(weeks=20))
        self.touched = "all"
        for therapist, zone_name, kind in zip(self.therapists, zones, hours):
            self.hours[therapist.id] = (HOURS[kind], zone_name)
            self._ok(self.api.put(f"{API}/therapists/me/availability", headers=therapist.auth,
                                  json={"timezone": zone_name, "weekly": HOURS[kind]}))
            self.rules[therapist.id] = {"buffer_before_minutes": buffers[0], "buffer_after_minutes": buffers[1],
                                        "min_notice_hours": min_notice, "booking_window_weeks": 26}
            self._ok(self.api.put(f"{API}/therapists/me/rules", headers=therapist.auth,
                                  json=self.rules[therapist.id]))

    def teardown(self):
        clock.set_clock(None)

    # --- the model ----------------------------------------------------------------------

    @staticmethod
    def _ok(response):
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def _pad(self, therapist_id: str) -> timedelta:
        rules = self.rules[therapist_id]
        return timedelta(minutes=rules["buffer_before_minutes"] + rules["buffer_after_minutes"])

    def _notice(self, therapist_id: str) -> timedelta:
        return timedelta(hours=self.rules[therapist_id]["min_notice_hours"])

    def _series(self, series_id: str) -> ref.Series:
        return next(s for s in self.model.series if s.id == series_id)

    def _person(self, person_id: str):
        return next(p for p in self.therapists + self.clients if p.id == person_id)

    def _name(self, o) -> str:
        return f"{self.names.get(o.series_id, o.series_id)}@{_z(o.original_start)}"

    def _row(self, series_id, original, start, end, status) -> str:
        local = ref.to_local(start, self._series(series_id).zone) if series_id in self.names else start
        return (f"{self.names.get(series_id, series_id)} original {_z(original)}: {_z(start)}..{_z(end)} "
                f"({local:%a %H:%M} local) {status}")

    def _visible(self, pick: int, scheduled_upcoming: bool = True):
        found = [o for o in self.model.occurrences(*self.window)
                 if not scheduled_upcoming or (o.start > self.now and o.status == "scheduled")]
        return found[pick % len(found)] if found else None

    def _ended(self, series: ref.Series) -> bool:
        """Nothing of the series is left: no occurrence that is not cancelled (paused ones and
        those on time off count, they come back) ends after now."""
        for original in ref.kept_originals(series, self.model.away[series.therapist_id],
                                           self.window[1] + timedelta(weeks=60)):
            start, duration = series.moved.get(original, (original, series.duration))
            if series.status.get(original, "scheduled") not in ref.NOT_HAPPENING and start + duration > self.now:
                return False
        return True

    def _upcoming_original(self, pick_series: int, pick: int) -> tuple[ref.Series, datetime] | None:
        recurring = [s for s in self.model.series if s.rrule]
        if not recurring:
            return None
        series = recurring[pick_series % len(recurring)]
        away = self.model.away[series.therapist_id]
        originals = [o for o in ref.kept_originals(series, away, self.window[1]) if o >= self.now]
        return (series, originals[pick % len(originals)]) if originals else None

    # --- judging a change before it is sent ---------------------------------------------

    def _judge(self, therapist_id: str, shown: list, raw: list, skip=lambda o: False, hours: bool = True,
               leave: list = (), lenient_series: str | None = None) -> tuple[str, list]:
        """"refuse", "accept" or "either", and why, for a change bringing occurrences `shown`
        (visible once it is made) and `raw` (all it may be checked on), each (start, end,
        identity or None). Refused: a shown one collides with another reserved occurrence
        (active, visible or on time off; buffers apart; `lenient_series`' own do not count) or lies outside the hours, or one
        in `leave` is on time off. Accepted: none of them collides, lies outside the hours or
        is on time off."""
        pad, (weekly, zone_name) = self._pad(therapist_id), self.hours[therapist_id]
        starts = [s for s, _, _ in raw + shown] or [self.now]
        others = [o for o in self.model.reserved(min(starts) - timedelta(days=2), max(starts) + timedelta(days=2),
                                                 therapist_id) if not skip(o)]
        away = self.model.away[therapist_id]

        def hits(s, e, me, strict=False):
            return [self._name(o) for o in others if s < o.end + pad and o.start < e + pad
                    and (o.series_id, o.original_start) != me and not (strict and o.series_id == lenient_series)]

        def outside(s, e):
            return hours and not ref.within_hours(weekly, zone_name, s, e)

        def on_leave(s, e):
            return any(a < e and s < b for a, b in away)

        why = [f"{_z(s)} collides with {hits(s, e, me, True)}" for s, e, me in shown if hits(s, e, me, True)]
        why += [f"{_z(s)} is outside the hours" for s, e, _ in shown if outside(s, e)]
        why += [f"{_z(s)} is on time off" for s, e, _ in leave if on_leave(s, e)]
        if why:
            return "refuse", why
        clear = not any(hits(s, e, me) or outside(s, e) or on_leave(s, e) for s, e, me in raw + shown)
        return ("accept" if clear else "either"), []

    def _judge_returning(self, after: ref.Calendar, therapist_id: str, lenient_series: str | None = None):
        """The verdict on a change after which the calendar is `after`: the occurrences it
        brings (back) are judged against everything else in `after`."""
        before = {(o.series_id, o.original_start): (o.start, o.end)
                  for o in self.model.occurrences(*self.window, therapist_id) if o.active}
        returning = [(o.start, o.end, (o.series_id, o.original_start))
                     for o in after.occurrences(*self.window, therapist_id)
                     if o.active and before.get((o.series_id, o.original_start)) != (o.start, o.end)]
        current, self.model = self.model, after
        try:
            return self._judge(therapist_id, [r for r in returning if r[1] > self.now], returning, hours=False,
                               lenient_series=lenient_series)
        finally:
            self.model = current

    def _judge_extension(self, after: ref.Calendar, therapist_id: str) -> tuple[str, list]:
        """A cancellation, a pause or time off is accepted, unless a sessions_limit series
        gains an occurrence by it that collides: refusing it or having checked it at booking
        is the product's choice, and the no-overlap check judges what it did."""
        kind, why = self._judge_returning(after, therapist_id)
        return ("either", why) if kind == "refuse" else ("accept", [])

    def _new_series_spans(self, series: ref.Series) -> tuple[list, list]:
        """(shown, raw) of a series about to be written, over the conflict window."""
        end = series.start + timedelta(weeks=get_settings().conflict_window_weeks)
        away = self.model.away[series.therapist_id]
        shown = [(o.start, o.end, None) for o in ref.series_occurrences(series, away, series.start, end) if o.active]
        raw = [(s, s + series.duration, None) for s in ref.kept_originals(series, [], end)]
        return shown, raw

    def _expect(self, verdict: tuple[str, list], response, what: str) -> bool:
        """Assert the answer fits the verdict; True when the API acknowledged the change."""
        kind, why = verdict
        self.touched = "all" if response.status_code < 300 else self.touched or "therapist"
        assert response.status_code < 500, f"{what}: {response.status_code} {response.text}"
        if kind == "refuse":
            assert response.status_code >= 400, f"{what}: acknowledged ({response.status_code}) though {why}"
        if kind == "accept":
            assert response.status_code < 300, f"{what}: refused though nothing is in the way: {response.text}"
        return response.status_code < 300

    # --- rules --------------------------------------------------------------------------

    @rule(therapist=st.integers(0, THERAPISTS - 1), client=st.integers(0, CLIENTS - 1), by_client=st.booleans(),
          day=st.sampled_from(BOOKING_DAYS), wall=st.sampled_from(WALL_TIMES),
          duration=st.sampled_from([30, 50, 60, 90]), pattern=st.sampled_from(PATTERNS),
          limit=st.sampled_from([None, None, 2, 4]), zone_choice=st.integers(0, 3))
    def book(self, therapist, client, by_client, day, wall, duration, pattern, limit, zone_choice):
        therapist, client = self.therapists[therapist], self.clients[client]
        zone_name = (ZONES + [self.hours[therapist.id][1]])[zone_choice]
        local_day = ref.to_local(self.now, zone_name).date() + timedelta(days=day)
        while (start := ref.to_instant(datetime.combine(local_day, wall), zone_name)) < self.now + timedelta(hours=1):
            local_day += timedelta(days=1)
        weekday = ref.to_local(start, zone_name).weekday()
        rrule = None if pattern == "one-off" else pattern.format(
            d=DAYS[weekday], d2=DAYS[(weekday + 2) % 7], d3=DAYS[(weekday + 3) % 7],
            until=f"{local_day + timedelta(weeks=4):%Y%m%d}")
        limit = limit if rrule else None
        series = ref.Series("new", therapist.id, client.id, start, zone_name, timedelta(minutes=duration), rrule,
                            limit)
        shown, raw = self._new_series_spans(series)
        verdict = self._judge(therapist.id, shown, raw, leave=raw[:1])
        if by_client and start < self.now + self._notice(therapist.id):
            verdict = ("refuse", ["inside the minimum notice"])
        body = {"therapist_id": therapist.id, "client_id": client.id, "start": _z(start), "timezone": zone_name,
                "duration_minutes": duration, "rrule": rrule, "sessions_limit": limit}
        response = self.api.post(f"{API}/series", headers=(client if by_client else therapist).auth, json=body)
        if self._expect(verdict, response, f"booking {body}"):
            series.id = response.json()["id"]
            self.names[series.id] = f"s{len(self.names) + 1}"
            self.model.series.append(series)
        self.focus = start

    @rule(pick=PICK, by_client=st.booleans())
    def cancel(self, pick, by_client):
        occurrence = self._visible(pick, scheduled_upcoming=False)
        if occurrence is None:
            return
        series = self._series(occurrence.series_id)
        late = occurrence.start - self.now < timedelta(hours=get_settings().late_cancel_hours)
        status = "late_cancelled" if late else "cancelled"
        after = copy.deepcopy(self.model)
        next(s for s in after.series if s.id == series.id).status[occurrence.original_start] = status
        verdict = self._judge_extension(after, series.therapist_id)
        if occurrence.status != "scheduled" or occurrence.start <= self.now:
            verdict = ("refuse", [f"it is {occurrence.status} and starts {_z(occurrence.start)}"])
        who = self._person(series.client_id if by_client else series.therapist_id)
        response = self.api.post(f"{API}/occurrences/{_occurrence_id(series.id, occurrence.original_start)}/cancel",
                                 headers=who.auth, json={})
        if self._expect(verdict, response, f"cancelling {self._name(occurrence)}"):
            assert response.json()["status"] == status, response.text
            series.status[occurrence.original_start] = status

    @rule(pick=PICK, by_client=st.booleans(), how=st.sampled_from(["hours", "days", "weeks", "before its series"]),
          amount=st.integers(-12, 12), duration=st.sampled_from([None, None, 30, 60]))
    def move(self, pick, by_client, how, amount, duration):
        occurrence = self._visible(pick)
        if occurrence is None:
            return
        series = self._series(occurrence.series_id)
        start = {"hours": occurrence.start + timedelta(hours=amount),
                 "days": occurrence.start + timedelta(days=amount),
                 "weeks": occurrence.start + timedelta(weeks=amount),
                 "before its series": series.start - timedelta(days=abs(amount), hours=1)}[how]
        start = max(start, self.now + timedelta(hours=2))
        length = timedelta(minutes=duration) if duration else occurrence.end - occurrence.start
        moved = [(start, start + length, (series.id, occurrence.original_start))]
        verdict = self._judge(series.therapist_id, moved, moved, hours=by_client, leave=moved)
        if by_client and start < self.now + self._notice(series.therapist_id):
            verdict = ("refuse", ["inside the minimum notice"])
        who = self._person(series.client_id if by_client else series.therapist_id)
        response = self.api.post(f"{API}/occurrences/{_occurrence_id(series.id, occurrence.original_start)}/move",
                                 headers=who.auth, json={"start": _z(start), "duration_minutes": duration})
        if self._expect(verdict, response, f"moving {self._name(occurrence)} to {_z(start)}"):
            assert (_at(response.json()["start"]), _at(response.json()["end"])) == (start, start + length)
            series.moved[occurrence.original_start] = (start, length)
        self.focus = start

    @rule(pick_series=PICK, pick=PICK, offset=st.integers(-2, 2), days=st.integers(0, 20), by_client=st.booleans())
    def pause(self, pick_series, pick, offset, days, by_client):
        found = self._upcoming_original(pick_series, pick)
        if found is None:
            return
        series, original = found
        first = max(ref.to_local(self.now, series.zone).date(),
                    ref.to_local(original, series.zone).date() + timedelta(days=offset))
        span = (first, first + timedelta(days=days))
        after = copy.deepcopy(self.model)
        next(s for s in after.series if s.id == series.id).pauses.append(span)
        verdict = self._judge_extension(after, series.therapist_id)
        if self._ended(series):
            verdict = ("refuse", ["the series has ended"])
        who = self._person(series.client_id if by_client else series.therapist_id)
        response = self.api.post(f"{API}/series/{series.id}/pauses", headers=who.auth,
                                 json={"from": str(span[0]), "until": str(span[1])})
        if self._expect(verdict, response, f"pausing {self.names[series.id]} {span[0]}..{span[1]}"):
            series.pauses.append(span)
            self.pause_ids[response.json()["id"]] = (series.id, span)

    @rule(pick=PICK)
    def unpause(self, pick):
        if not self.pause_ids:
            return
        pause_id = list(self.pause_ids)[pick % len(self.pause_ids)]
        series_id, span = self.pause_ids[pause_id]
        after = copy.deepcopy(self.model)
        next(s for s in after.series if s.id == series_id).pauses.remove(span)
        series = self._series(series_id)
        verdict = self._judge_returning(after, series.therapist_id, lenient_series=series_id)
        response = self.api.delete(f"{API}/series/{series_id}/pauses/{pause_id}",
                                   headers=self._person(series.client_id).auth)
        if self._expect(verdict, response, f"unpausing {self.names[series_id]} {span[0]}..{span[1]}"):
            series.pauses.remove(span)
            del self.pause_ids[pause_id]

    @rule(therapist=st.integers(0, THERAPISTS - 1), over=st.one_of(PICK, st.none()), day=st.integers(0, 40),
          whole_day=st.booleans(), hour=st.integers(0, 22), hours=st.integers(1, 6))
    def add_time_off(self, therapist, over, day, whole_day, hour, hours):
        """A whole local day or some hours, over an occurrence (`over` picks it) or `day` days on."""
        therapist = self.therapists[therapist]
        zone_name = self.hours[therapist.id][1]
        occurrence = None if over is None else self._visible(over)
        if occurrence is not None and occurrence.therapist_id == therapist.id:
            local = ref.to_local(occurrence.start, zone_name)
            hour = local.hour - (hours - 1) // 2
        else:
            local = ref.to_local(self.now, zone_name) + timedelta(days=day)
        midnight = datetime.combine(local.date(), time(0))
        start, end = ((midnight, midnight + timedelta(days=1)) if whole_day
                      else (midnight + timedelta(hours=hour), midnight + timedelta(hours=hour + hours)))
        start, end = ref.to_instant(start, zone_name), ref.to_instant(end, zone_name)
        after = copy.deepcopy(self.model)
        after.away[therapist.id].append((start, end))
        verdict = self._judge_extension(after, therapist.id)
        response = self.api.post(f"{API}/therapists/me/time-off", headers=therapist.auth,
                                 json={"start": _z(start), "end": _z(end)})
        if self._expect(verdict, response, f"time off {_z(start)}..{_z(end)}"):
            self.model.away[therapist.id].append((start, end))
            self.time_off_ids[response.json()["id"]] = (therapist.id, (start, end))
        self.focus = start

    @rule(pick=PICK)
    def remove_time_off(self, pick):
        if not self.time_off_ids:
            return
        time_off_id = list(self.time_off_ids)[pick % len(self.time_off_ids)]
        therapist_id, span = self.time_off_ids[time_off_id]
        after = copy.deepcopy(self.model)
        after.away[therapist_id].remove(span)
        verdict = self._judge_returning(after, therapist_id)
        response = self.api.delete(f"{API}/therapists/me/time-off/{time_off_id}",
                                   headers=self._person(therapist_id).auth)
        if self._expect(verdict, response, f"removing time off {_z(span[0])}..{_z(span[1])}"):
            self.model.away[therapist_id].remove(span)
            del self.time_off_ids[time_off_id]
        self.focus = span[0]

    @rule(pick_series=PICK, pick=PICK, by_client=st.booleans())
    def end(self, pick_series, pick, by_client):
        found = self._upcoming_original(pick_series, pick)
        if found is None:
            return
        series, original = found
        who = self._person(series.client_id if by_client else series.therapist_id)
        verdict = ("refuse", ["the series has ended"]) if self._ended(series) else ("accept", [])
        response = self.api.post(f"{API}/series/{series.id}/end", headers=who.auth, json={"from": _z(original)})
        if self._expect(verdict, response, f"ending {self.names[series.id]} from {_z(original)}"):
            series.ends_before = original

    @rule(pick_series=PICK, pick=PICK, shift=st.sampled_from([0, 60, -90, 120]),
          duration=st.sampled_from([None, 30, 60]), new_rule=st.sampled_from(["same", "same", "weekly", "two days"]),
          by_client=st.booleans())
    def split(self, pick_series, pick, shift, duration, new_rule, by_client):
        found = self._upcoming_original(pick_series, pick)
        if found is None:
            return
        old, original = found
        start = original + timedelta(minutes=shift)
        if start < self.now + timedelta(hours=1):
            return
        weekday = ref.to_local(start, old.zone).weekday()
        rrule = {"same": None, "weekly": "FREQ=WEEKLY",
                 "two days": f"FREQ=WEEKLY;BYDAY={DAYS[weekday]},{DAYS[(weekday + 2) % 7]}"}[new_rule]
        new = self._split_series(old, original, start, duration, rrule)
        shown, raw = self._new_series_spans(new)
        # a client's new rule must lie inside the hours; the single changes carried over
        # (a therapist's move may be outside them) are not judged again
        verdict = self._judge(old.therapist_id, shown, raw, hours=False, leave=raw[:1],
                              skip=lambda o: o.series_id == old.id and o.original_start >= original)
        weekly, zone_name = self.hours[old.therapist_id]
        bare = copy.copy(new)  # the rule alone, as the product checks it
        bare.status, bare.moved = {}, {}
        rule_end = new.start + timedelta(weeks=get_settings().conflict_window_weeks)
        outside = [s for s in ref.kept_originals(bare, [], rule_end)
                   if not ref.within_hours(weekly, zone_name, s, s + new.duration)]
        if by_client and outside:
            verdict = ("refuse", [f"{_z(outside[0])} is outside the hours"])
        if by_client and start < self.now + self._notice(old.therapist_id):
            verdict = ("refuse", ["inside the minimum notice"])
        if ref.rule_starts(new, start + timedelta(seconds=1)) != [start]:
            verdict = ("refuse", ["the new start is not an occurrence of the rule"])
        if self._ended(old):
            verdict = ("refuse", ["the series has ended"])
        body = {"from": _z(original), "start": _z(start), "duration_minutes": duration,
                **({"rrule": rrule} if rrule else {})}
        who = self._person(old.client_id if by_client else old.therapist_id)
        response = self.api.post(f"{API}/series/{old.id}/split", headers=who.auth, json=body)
        if self._expect(verdict, response, f"splitting {self.names[old.id]} {body}"):
            answer = response.json()
            assert (answer["parent_id"], _at(answer["start"]), answer["duration_minutes"], answer["sessions_limit"],
                    _rule_parts(answer["rrule"])) == (old.id, new.start, new.duration // timedelta(minutes=1),
                                                      new.sessions_limit, _rule_parts(new.rrule)), answer
            new.id = answer["id"]
            self.names[new.id] = f"s{len(self.names) + 1}"
            old.ends_before = original
            self.model.series.append(new)
        self.focus = start

    def _split_series(self, old: ref.Series, original: datetime, start: datetime, duration: int | None,
                      rrule: str | None) -> ref.Series:
        """The new series of "this and following" from `original`: the old rule (its COUNT less
        the starts before) unless another is given, the old series' end if it had one, the
        sessions_limit less the occurrences held before, and the old series' later
        cancellations and moves, each carried to the new series' occurrence on the same
        local date."""
        if rrule is None:
            parts = _rule_parts(old.rrule)
            if "COUNT" in parts:
                parts["COUNT"] = str(int(parts["COUNT"]) - len(ref.rule_starts(old, original, ignore_end=True)))
            rrule = ";".join(f"{k}={v}" for k, v in parts.items())
        limit = old.sessions_limit
        if limit is not None:
            alone = ref.Calendar([old], {old.therapist_id: self.model.away[old.therapist_id]})
            limit -= sum(1 for before in ref.rule_starts(old, original)
                         if (o := alone.occurrence(old.id, before)) is not None and o.active)
        new = ref.Series("new", old.therapist_id, old.client_id, start, old.zone,
                         timedelta(minutes=duration) if duration else old.duration, rrule, limit)
        if old.ends_before is not None:  # an end made before holds for what replaces the series,
            # shifted by as much wall-clock time as the split moves its start
            shift = ref.to_local(start, old.zone) - ref.to_local(original, old.zone)
            new.ends_before = ref.to_instant(ref.to_local(old.ends_before, old.zone) + shift, old.zone)
        later = sorted(o for o in {*old.status, *old.moved} if o >= original)
        if later:
            starts = ref.rule_starts(new, later[-1] + timedelta(days=2))
            by_date = {ref.to_local(s, new.zone).date(): s for s in starts}
            for was in later:
                carried_to = by_date.get(ref.to_local(was, old.zone).date())
                if carried_to is not None and was in old.status:
                    new.status[carried_to] = old.status[was]
                if carried_to is not None and was in old.moved:
                    new.moved[carried_to] = old.moved[was]
        return new


    @rule()
    def tick(self):
        from therabee.db.engine import get_engine
        from therabee.db.models import Session
        from therabee.services import horizon

        horizon.tick()
        self.touched = self.touched or "therapist"
        horizon_end = self.now + timedelta(hours=get_settings().horizon_hours)
        due = [o for o in self.model.occurrences(self.now - timedelta(days=1), horizon_end)
               if o.active and o.end > self.now]
        with get_engine().connect() as connection:
            rows = list(connection.execute(sa.select(Session.series_id, Session.original_start, Session.start,
                                                     Session.end, Session.status)))
        for o in due:
            sessions = [(r.start, r.end, r.status) for r in rows
                        if (r.series_id, r.original_start) == (o.series_id, o.original_start)]
            assert sessions == [(o.start, o.end, "scheduled")], (
                f"after a tick (now {_z(self.now)}), {self._row(o.series_id, o.original_start, o.start, o.end, '')}"
                f" inside the horizon has sessions {[(_z(s), _z(e), status) for s, e, status in sessions]}")

    @rule(hours=st.sampled_from([1, 5, 23, 49, 24 * 6, 24 * 15]))
    def advance_clock(self, hours):
        self.now += timedelta(hours=hours)
        self.touched = "all"

    # --- after every step that did something --------------------------------------------

    @invariant()
    def api_agrees_with_the_reference(self):
        """The therapist's listing and slots after any request; the rest after a change."""
        if self.touched is None:
            return
        near = (self.focus - timedelta(days=3), self.focus + timedelta(days=4))
        for therapist in self.therapists:
            self._check_listing(therapist, {"therapist_id": therapist.id}, self.window)
            if self.touched == "all":
                # a week around the last change too: series are picked for a window by their rows
                self._check_listing(therapist, {"therapist_id": therapist.id}, near)
            self._check_slots(therapist)
        if self.touched == "all":
            for client in self.clients:
                self._check_listing(client, {"client_id": client.id}, self.window)
            for therapist in self.therapists:
                self._check_series(therapist)
            if self.check_feed:
                for who in self.therapists + self.clients:
                    self._check_feed(who)
        self.touched = None

    def _check_listing(self, who, scope: dict, window: tuple[datetime, datetime]) -> None:
        response = self.api.get(f"{API}/occurrences", headers=who.auth,
                                params={"from": _z(window[0]), "to": _z(window[1]),
                                        **({"therapist_id": who.id} if "therapist_id" in scope else {})})
        assert response.status_code == 200, response.text
        listed = {(i["series_id"], _at(i["original_start"]), _at(i["start"]), _at(i["end"]), i["status"])
                  for i in response.json()["items"]}
        active = sorted((start, end, sid, original) for sid, original, start, end, status in listed
                        if status not in ref.NOT_HAPPENING)
        for (s1, e1, a, o1), (s2, e2, b, o2) in zip(active, active[1:]):
            assert "therapist_id" not in scope or e1 <= s2, (
                f"double booked: {self._row(a, o1, s1, e1, '')} and {self._row(b, o2, s2, e2, '')}")
        expected = {(o.series_id, o.original_start, o.start, o.end, self._shown_status(o))
                    for o in self.model.occurrences(*window, **scope)}
        extra = {row for row in listed - expected if not self._ended_record(*row)}
        missing = expected - listed
        assert not extra and not missing, "\n".join(
            [f"GET /occurrences {_z(window[0])}..{_z(window[1])} of {who.email} differs from the reference"
             f" (now {_z(self.now)}):"]
            + [f"  missing {self._row(*row)}" for row in sorted(missing, key=lambda r: r[2])]
            + [f"  extra   {self._row(*row)}" for row in sorted(extra, key=lambda r: r[2])])

    def _shown_status(self, o) -> str:
        """The free provider sends no webhooks: a scheduled occurrence reads "in_progress"
        from its start to its end (API.md statuses; README, Joining a session)."""
        return "in_progress" if o.status == "scheduled" and o.start <= self.now < o.end else o.status

    def _ended_record(self, series_id, original, start, end, status) -> bool:
        """A session cancelled because its series ended (its end or sessions_limit) may stay listed."""
        if status not in ref.NOT_HAPPENING or series_id not in self.names:
            return False
        series = self._series(series_id)
        return original not in ref.kept_originals(series, self.model.away[series.therapist_id],
                                                  original + timedelta(seconds=1))

    def _check_slots(self, therapist) -> None:
        weekly, zone_name = self.hours[therapist.id]
        local = datetime.combine(ref.to_local(self.focus, zone_name).date(), time(0))
        from_, to = ref.to_instant(local, zone_name), ref.to_instant(local + timedelta(days=2), zone_name)
        expected = self.model.free_slots(
            therapist.id, weekly, zone_name, from_, to, timedelta(minutes=SLOT_MINUTES), self._pad(therapist.id),
            not_before=self.now + self._notice(therapist.id),
            not_after=self.now + timedelta(weeks=self.rules[therapist.id]["booking_window_weeks"]))
        response = self.api.get(f"{API}/therapists/{therapist.id}/slots", headers=therapist.auth,
                                params={"from": _z(from_), "to": _z(to), "duration_minutes": SLOT_MINUTES})
        assert response.status_code == 200, response.text
        offered = [_at(i["start"]) for i in response.json()["items"]]
        assert offered == expected, (
            f"slots of {therapist.email} ({zone_name}) {_z(from_)}..{_z(to)}, now {_z(self.now)}:\n"
            f"  free but not offered: {[_z(s) for s in sorted(set(expected) - set(offered))]}\n"
            f"  offered but not free: {[_z(s) for s in sorted(set(offered) - set(expected))]}\n"
            f"  offered twice:        {sorted({_z(s) for s in offered if offered.count(s) > 1})}")

    def _check_series(self, therapist) -> None:
        response = self.api.get(f"{API}/series", headers=therapist.auth)
        assert response.status_code == 200, response.text
        listed = {item["id"]: item for item in response.json()["items"]}
        for series in [s for s in self.model.series if s.therapist_id == therapist.id]:
            assert series.id in listed, f"{self.names[series.id]} was acknowledged but is not listed"
            expected = "ended" if self._ended(series) else "active"
            assert listed[series.id]["status"] == expected, (
                f"{self.names[series.id]} is {listed[series.id]['status']}, the reference says {expected}")

    def _check_feed(self, who) -> None:
        from_, to = self.window
        if who.id not in self.feeds:
            self.feeds[who.id] = urlsplit(self._ok(self.api.get(f"{API}/me", headers=who.auth))["feed_url"]).path
        response = self.api.get(self.feeds[who.id])
        assert response.status_code == 200, f"feed of {who.email}: {response.status_code} {response.text[:300]}"
        events = recurring_ical_events.of(icalendar.Calendar.from_ical(response.content)).between(from_, to)
        fed = sorted((e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC)) for e in events
                     if from_ <= e["DTSTART"].dt < to)
        scope = {"therapist_id" if who in self.therapists else "client_id": who.id}
        expected = sorted((o.start, o.end) for o in self.model.occurrences(from_, to, **scope) if o.active)
        assert fed == expected, (
            f"feed of {who.email} (now {_z(self.now)}):\n"
            f"  missing {[_z(s) for s, e in expected if (s, e) not in fed]}\n"
            f"  extra   {[_z(s) for s, e in fed if (s, e) not in expected]}")


def _run(api, check_feed: bool) -> None:
    CalendarMachine.api = api
    CalendarMachine.therapists = [register(api, "therapist", ZONES[i]) for i in range(THERAPISTS)]
    CalendarMachine.clients = [register(api, "client", ZONES[-1 - i]) for i in range(CLIENTS)]
    CalendarMachine.dst_changes = _dst_changes(clock.now())
    CalendarMachine.check_feed, CalendarMachine.feeds = check_feed, {}
    try:
        run_state_machine_as_test(CalendarMachine, settings=PROFILE)
    finally:
        clock.set_clock(None)


@pytest.mark.postgres(reason="a long random run on the production database; SQLite has the other integration tests")
def test_calendar_through_the_api_equals_the_reference_model(api):
    _run(api, check_feed=False)


@pytest.mark.postgres(reason="a long random run on the production database; SQLite has the other integration tests")
def test_calendar_feed_through_the_api_equals_the_reference_model(api):
    _run(api, check_feed=True)
