"""Issue 12's confirmed faults, each reproduced through the REST API as the issue tells it.

Expected values are worked out by hand in each test (wall-clock arithmetic with zoneinfo)
or taken from the `holidays` package; none come from the code under test. Dates are
relative to the suite's clock (`clock.now()`, pinned by THERABEE_TEST_NOW), so the tests
hold on any day of the year.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
import pytest
import sqlalchemy as sa

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from therabee.services import clock

pytestmark = pytest.mark.dated

ZONE = "America/New_York"
TZ = ZoneInfo(ZONE)
ALWAYS_OPEN = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(7)]
ACTIVE = ("scheduled", "in_progress", "completed", "no_show")
CANCELLED = ("cancelled", "late_cancelled")


def _id(series_id: str, original_start: datetime) -> str:
    """An occurrence id as API.md spells it: `{series_id}:{YYYYMMDDTHHMMSSZ}`."""
    return f"{series_id}:{original_start.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """`day` at that New York wall-clock time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _items(api, who, from_: datetime, to: datetime, **params) -> list[dict]:
    response = api.get(f"{API}/occurrences", headers=who.auth,
                       params={"from": from_.isoformat(), "to": to.isoformat(), **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _scheduled_starts(items: list[dict]) -> set[datetime]:
    return {datetime.fromisoformat(i["start"]) for i in items if i["status"] == "scheduled"}


def _slot_starts(api, who, therapist, day: date) -> set[datetime]:
    """Free 50-minute starts the therapist offers on that New York day."""
    response = api.get(f"{API}/therapists/{therapist.id}/slots", headers=who.auth, params={
        "from": _at(day, 0).isoformat(), "to": _at(day + timedelta(days=1), 0).isoformat(),
        "duration_minutes": 50})
    assert response.status_code == 200, response.text
    return {datetime.fromisoformat(s["start"]) for s in response.json()["items"]}


def _conflicts(response) -> set[tuple]:
    return {(datetime.fromisoformat(c["start"]), datetime.fromisoformat(c["end"]), c["occurrence_id"])
            for c in response.json()["conflicts"]}


def _conflict_ids(response) -> set[str | None]:
    return {c["occurrence_id"] for c in response.json()["conflicts"]}


def _fields(response) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


def _sessions(series_id: str) -> list[tuple[datetime, str]]:
    """(original_start, status) of the series' session rows, read from the table itself."""
    from sqlmodel import select

    from therabee.db.engine import read_only
    from therabee.db.models import Session

    with read_only() as db:
        return list(db.exec(select(Session.original_start, Session.status)
                            .where(Session.series_id == series_id).order_by(Session.original_start)))


def _move(api, who, occurrence_id: str, start: datetime):
    return api.post(f"{API}/occurrences/{occurrence_id}/move", headers=who.auth,
                    json={"start": start.isoformat()})


def _series(api, who, series_id: str) -> dict:
    response = api.get(f"{API}/series/{series_id}", headers=who.auth)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def frozen():
    """The services' clock held still at the suite clock's current minute; a test moves it
    by setting `state["now"]`."""
    state = {"now": clock.now().replace(second=0, microsecond=0)}
    clock.set_clock(lambda: state["now"])
    try:
        yield state
    finally:
        clock.set_clock(None)


def _working_day_before(day: date, closed: set[date]) -> date:
    before = day - timedelta(days=1)
    while before.weekday() >= 5 or before in closed:
        before -= timedelta(days=1)
    return before


# --- 1. Time off and public holidays are busy ------------------------------------------

@pytest.fixture(params=["time off", "public holiday"])
def day_off(request, api):
    """A therapist (Mon–Fri 09–17 New York) away for one whole weekday — a Tuesday of time off
    three weeks ahead, or the next US public holiday on a weekday (from the `holidays`
    package) — and a client with a weekly 10:00 series from the working day before it."""
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    today = clock.now().astimezone(TZ).date()
    if request.param == "time off":
        closed: set[date] = set()
        day = next_weekday_at(1, 0, ZONE, weeks_ahead=3).date()
    else:
        closed = set(holidays.country_holidays("US", years=[today.year, today.year + 1]))
        day = next(d for d in sorted(closed) if d.weekday() < 5 and d <= today + timedelta(weeks=20)
                   and _working_day_before(d, closed) >= today + timedelta(days=3))
    before = _working_day_before(day, closed)
    booked = book(api, client, therapist, _at(before, 10))
    assert booked.status_code == 201, booked.text
    away = (_at(day, 0), _at(day + timedelta(days=1), 0))  # the therapist's local day
    if request.param == "time off":
        added = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth,
                         json={"start": away[0].isoformat(), "end": away[1].isoformat()})
        assert added.status_code == 201, added.text
    else:
        rules = api.put(f"{API}/therapists/me/rules", headers=therapist.auth, json={"holidays_country": "US"})
        assert rules.status_code == 200, rules.text
    return SimpleNamespace(therapist=therapist, client=client, day=day, before=before,
                           series_id=booked.json()["id"], away=away)


def test_a_day_off_offers_no_slots_and_refuses_booking_moving_and_splitting_into_it(api, day_off):
    """A start the client chose inside the day off is refused, naming the day off (no
    occurrence id). For the split that is the new series' first start; later occurrences of
    a rule that fall on time off or holidays are hidden, not refused (test_practice_rules)."""
    therapist, client, day = day_off.therapist, day_off.client, day_off.day
    other = register(api, "client", ZONE)
    window = (_at(day_off.before, 0) - timedelta(days=1), _at(day, 0) + timedelta(days=8))

    def written() -> tuple:
        return (_items(api, therapist, *window), api.get(f"{API}/series", headers=other.auth).json(),
                api.get(f"{API}/series", headers=client.auth).json())

    before = written()
    assert _slot_starts(api, other, therapist, day) == set()
    assert _at(day_off.before, 14) in _slot_starts(api, other, therapist, day_off.before)
    away = (day_off.away[0], day_off.away[1], None)

    booked = book(api, other, therapist, _at(day, 10), rrule=None)
    assert booked.status_code == 409, booked.text
    assert _conflicts(booked) == {away}
    first = _id(day_off.series_id, _at(day_off.before, 10))
    moved = _move(api, client, first, _at(day, 10))
    assert moved.status_code == 409, moved.text
    assert _conflicts(moved) == {away}
    split = api.post(f"{API}/series/{day_off.series_id}/split", headers=client.auth, json={
        "from": _at(day_off.before, 10).isoformat(), "start": _at(day, 10).isoformat()})
    assert split.status_code == 409, split.text
    assert away in _conflicts(split)
    assert written() == before


def test_time_off_whose_hidden_occurrence_would_collide_cannot_be_removed_or_shortened(api):
    """Time off overlapping only the first minutes of a session hides all of it, but its
    time stays the series': another booking on the rest of it is refused. A collision
    written before that rule held (a row put in directly, as old data would be) makes
    shortening or removing the time off answer 409, and nothing changes."""
    therapist = therapist_with_hours(api, ZONE)
    rules = api.put(f"{API}/therapists/me/rules", headers=therapist.auth,
                    json={"buffer_before_minutes": 0, "buffer_after_minutes": 0})
    assert rules.status_code == 200, rules.text
    first, second = register(api, "client", ZONE), register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=1)
    weekly = book(api, first, therapist, start)
    assert weekly.status_code == 201, weekly.text
    day = start + timedelta(weeks=2)  # 10:00–10:50 local
    hidden = _id(weekly.json()["id"], day)
    off = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (day - timedelta(hours=1)).isoformat(), "end": (day + timedelta(minutes=10)).isoformat()})
    assert off.status_code == 201, off.text
    refused = book(api, second, therapist, day + timedelta(minutes=20), rrule=None)  # 10:20–11:10
    assert refused.status_code == 409, refused.text
    assert _conflict_ids(refused) == {hidden}
    in_the_way = _id(_old_row_one_off(therapist, second, day + timedelta(minutes=20)), day + timedelta(minutes=20))
    window = (day - timedelta(days=1), day + timedelta(days=1))
    listed = _items(api, therapist, *window)
    assert [i["id"] for i in listed] == [in_the_way]

    url = f"{API}/therapists/me/time-off/{off.json()['id']}"
    still_hiding = api.put(url, headers=therapist.auth, json={
        "start": (day - timedelta(hours=1)).isoformat(), "end": (day + timedelta(minutes=5)).isoformat()})
    assert still_hiding.status_code == 200, still_hiding.text
    shortened = api.put(url, headers=therapist.auth, json={
        "start": (day - timedelta(hours=1)).isoformat(), "end": (day - timedelta(minutes=30)).isoformat()})
    assert shortened.status_code == 409, shortened.text
    assert in_the_way in _conflict_ids(shortened)
    removed = api.delete(url, headers=therapist.auth)
    assert removed.status_code == 409, removed.text
    assert in_the_way in _conflict_ids(removed)

    assert _items(api, therapist, *window) == listed
    kept = api.get(f"{API}/therapists/{therapist.id}/time-off", headers=therapist.auth,
                   params={"from": window[0].isoformat(), "to": window[1].isoformat()}).json()["items"]
    assert [(datetime.fromisoformat(t["start"]), datetime.fromisoformat(t["end"])) for t in kept] == [
        (day - timedelta(hours=1), day + timedelta(minutes=5))]
    assert hidden not in {i["id"] for i in listed}


def _old_row_one_off(therapist, client, start: datetime) -> str:
    """A 50-minute one-off written straight to the table, with no check (old data)."""
    from therabee.db.engine import unit_of_work
    from therabee.db.models import Series

    with unit_of_work() as db:
        row = Series(therapist_id=therapist.id, client_id=client.id, start=start, timezone=ZONE,
                     duration_minutes=50, rrule=None, next_due_at=start)
        db.add(row)
        db.flush()
        return row.id


# --- 2. Occurrences that come back are materialized ------------------------------------

def _country_without(day: date) -> str | None:
    return next((c for c in ("GB", "JP", "DE", "FR")
                 if day not in holidays.country_holidays(c, years=[day.year])), None)


def _holiday_another_country_lacks(today: date) -> date:
    """The next US public holiday at least 3 days ahead that some other country does not keep."""
    us = holidays.country_holidays("US", years=[today.year, today.year + 1])
    return next(d for d in sorted(us) if d >= today + timedelta(days=3) and _country_without(d))


def _hide_by_pause(api, therapist, series_id, start):
    local_day = str(start.astimezone(TZ).date())
    pause = api.post(f"{API}/series/{series_id}/pauses", headers=therapist.auth,
                     json={"from": local_day, "until": local_day})
    assert pause.status_code == 201, pause.text
    return lambda: api.delete(f"{API}/series/{series_id}/pauses/{pause.json()['id']}", headers=therapist.auth)


def _time_off(api, therapist, start: datetime, end: datetime):
    off = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth,
                   json={"start": start.isoformat(), "end": end.isoformat()})
    assert off.status_code == 201, off.text
    return f"{API}/therapists/me/time-off/{off.json()['id']}"


def _hide_by_time_off_removed(api, therapist, series_id, start):
    url = _time_off(api, therapist, start - timedelta(hours=1), start + timedelta(hours=2))
    return lambda: api.delete(url, headers=therapist.auth)


def _hide_by_time_off_shortened(api, therapist, series_id, start):
    url = _time_off(api, therapist, start - timedelta(hours=3), start + timedelta(hours=2))
    return lambda: api.put(url, headers=therapist.auth, json={
        "start": (start - timedelta(hours=3)).isoformat(), "end": (start - timedelta(hours=1)).isoformat()})


def _hide_by_holiday(api, therapist, series_id, start):
    country = _country_without(start.astimezone(TZ).date())
    rules = api.put(f"{API}/therapists/me/rules", headers=therapist.auth, json={"holidays_country": "US"})
    assert rules.status_code == 200, rules.text
    return lambda: api.put(f"{API}/therapists/me/rules", headers=therapist.auth,
                           json={"holidays_country": country})


HIDES = {"pause removed": _hide_by_pause, "time off removed": _hide_by_time_off_removed,
         "time off shortened": _hide_by_time_off_shortened, "holiday country changed": _hide_by_holiday}


@pytest.mark.parametrize("hide", list(HIDES))
def test_an_occurrence_that_comes_back_inside_the_horizon_gets_its_session_at_the_next_tick(api, frozen, hide):
    from therabee.services import horizon

    today = frozen["now"].astimezone(TZ).date()
    if hide == "holiday country changed":
        start = _at(_holiday_another_country_lacks(today), 10)
    else:
        start = _at(today + timedelta(days=2), 10)
    frozen["now"] = start - timedelta(hours=48)  # the next occurrence is inside the 72 h horizon
    therapist = therapist_with_hours(api, ZONE, ALWAYS_OPEN)
    client = register(api, "client", ZONE)
    booked = book(api, therapist, therapist, start, client_id=client.id)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    undo = HIDES[hide](api, therapist, series_id, start)
    horizon.tick()
    assert _sessions(series_id) == []
    brought_back = undo()
    assert brought_back.status_code in (200, 204), brought_back.text
    horizon.tick()
    assert _sessions(series_id) == [(start, "scheduled")]
    [item] = _items(api, client, start - timedelta(hours=1), start + timedelta(hours=1))
    assert (item["id"], item["status"], item["materialized"]) == (_id(series_id, start), "scheduled", True)


# --- 3. An occurrence moved far from its original date ---------------------------------

def test_a_one_off_moved_nine_weeks_earlier_is_listed_and_busy(api):
    therapist = therapist_with_hours(api, ZONE)
    client, other = register(api, "client", ZONE), register(api, "client", ZONE)
    original = next_weekday_at(2, 10, ZONE, weeks_ahead=10)  # a Wednesday, 10:00
    new_start = next_weekday_at(1, 10, ZONE, weeks_ahead=1)  # a Tuesday, 10:00
    booked = book(api, client, therapist, original, rrule=None)
    assert booked.status_code == 201, booked.text
    occurrence = _id(booked.json()["id"], original)
    moved = _move(api, client, occurrence, new_start)
    assert moved.status_code == 200, moved.text

    week = (new_start - timedelta(days=1), new_start + timedelta(days=6))
    for who in (client, therapist):
        assert [(i["id"], datetime.fromisoformat(i["start"])) for i in _items(api, who, *week)] == [
            (occurrence, new_start)]
    day = new_start.date()
    offered = _slot_starts(api, other, therapist, day)
    assert new_start not in offered and _at(day, 14) in offered
    others = book(api, other, therapist, new_start + timedelta(days=1), rrule=None)
    assert others.status_code == 201, others.text
    onto = _move(api, other, _id(others.json()["id"], new_start + timedelta(days=1)), new_start)
    assert onto.status_code == 409, onto.text
    assert occurrence in _conflict_ids(onto)
    second = book(api, other, therapist, new_start, rrule=None)
    assert second.status_code == 409, second.text
    assert occurrence in _conflict_ids(second)
    assert [i["id"] for i in _items(api, therapist, *week)] == [
        occurrence, _id(others.json()["id"], new_start + timedelta(days=1))]


def test_the_first_of_an_ended_series_moved_eight_weeks_later_is_listed_and_busy(api):
    therapist = therapist_with_hours(api, ZONE)
    client, other = register(api, "client", ZONE), register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=1)
    booked = book(api, client, therapist, start)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    ended = api.post(f"{API}/series/{series_id}/end", headers=client.auth,
                     json={"from": (start + timedelta(weeks=2)).isoformat()})
    assert ended.status_code == 200, ended.text
    later = start + timedelta(weeks=8)  # the same Tuesday 10:00, wall clock
    moved = _move(api, client, _id(series_id, start), later)
    assert moved.status_code == 200, moved.text

    week = (later - timedelta(days=1), later + timedelta(days=6))
    for who in (client, therapist):
        assert [(i["id"], datetime.fromisoformat(i["start"])) for i in _items(api, who, *week)] == [
            (_id(series_id, start), later)]
    assert later not in _slot_starts(api, other, therapist, later.date())
    at_that_time = book(api, other, therapist, later, rrule=None)
    assert at_that_time.status_code == 409, at_that_time.text
    assert _conflict_ids(at_that_time) == {_id(series_id, start)}


# --- 4. Opening and cancelling the same occurrence at once ------------------------------

ROUNDS = 24


@pytest.fixture
def slow_session_inserts():
    """Every INSERT into sessions waits 50 ms first, as on a loaded database: it widens the
    window between reading an occurrence and writing its session, wherever that code is."""
    from therabee.db.engine import get_engine

    def wait(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SESSIONS"):
            time.sleep(0.05)

    engine = get_engine()
    sa.event.listen(engine, "before_cursor_execute", wait)
    yield
    sa.event.remove(engine, "before_cursor_execute", wait)


@pytest.mark.postgres(reason="two READ COMMITTED transactions on separate connections, at once")
def test_opening_and_cancelling_one_occurrence_at_once_cancellation_always_wins(api, frozen,
                                                                               slow_session_inserts):
    from sqlmodel import select

    from therabee.db.engine import read_only
    from therabee.db.models import Session
    from therabee.services import occurrences, people

    therapist = therapist_with_hours(api, "UTC", ALWAYS_OPEN)
    client = register(api, "client", "UTC")
    # on whole hours, 30 minutes long: none crosses midnight, all inside the horizon
    first = frozen["now"].replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    starts = [first + timedelta(hours=h) for h in range(ROUNDS)]
    ids = []
    for start in starts:
        booked = book(api, therapist, therapist, start, rrule=None, duration=30, client_id=client.id)
        assert booked.status_code == 201, booked.text
        ids.append(_id(booked.json()["id"], start))
    opener, canceller = people.get_user(client.id), people.get_user(therapist.id)
    rng = random.Random(12)
    lost, errors = [], []
    for occurrence_id, start in zip(ids, starts):
        gate = threading.Barrier(2)
        answers: dict[str, dict] = {}

        def run(name, call, *args):
            gate.wait()
            try:
                answers[name] = call(*args)
            except Exception as exc:  # noqa: BLE001 — reported below, with the round
                errors.append((occurrence_id, name, repr(exc)))

        threads = [threading.Thread(target=run, args=("open", occurrences.get_occurrence, opener, occurrence_id)),
                   threading.Thread(target=run, args=("cancel", occurrences.cancel, canceller, occurrence_id))]
        rng.shuffle(threads)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        series_id = occurrence_id.split(":")[0]
        with read_only() as db:
            active = db.exec(select(Session.id).where(Session.series_id == series_id,
                                                      Session.status.in_(ACTIVE))).all()
        shown = api.get(f"{API}/occurrences/{occurrence_id}", headers=client.auth).json()
        if active or shown["status"] not in CANCELLED or answers.get("cancel", {}).get("status") not in CANCELLED:
            lost.append((occurrence_id, shown["status"], len(active)))
    assert errors == []
    assert lost == [], f"{len(lost)} of {ROUNDS} rounds left the occurrence active"


# --- 5. Instants are whole minutes -----------------------------------------------------

def test_starts_with_seconds_or_fractions_are_refused_naming_start(api):
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    eleven = next_weekday_at(1, 11, ZONE, weeks_ahead=2)
    fraction = eleven.replace(microsecond=250_000).isoformat(timespec="milliseconds")  # …T11:00:00.250-05:00
    body = {"therapist_id": therapist.id, "start": fraction, "duration_minutes": 50}
    one_off = api.post(f"{API}/series", headers=client.auth, json={**body, "rrule": None})
    assert one_off.status_code == 422, one_off.text
    assert "start" in _fields(one_off)
    weekly = api.post(f"{API}/series", headers=client.auth, json={**body, "rrule": "FREQ=WEEKLY"})
    assert weekly.status_code == 422, weekly.text
    assert _fields(weekly) == ["start"]
    assert "rule" not in weekly.json()["errors"][0]["message"].lower()
    assert api.get(f"{API}/series", headers=client.auth).json()["items"] == []

    two = eleven + timedelta(hours=3)
    booked = book(api, client, therapist, two, rrule=None)
    assert booked.status_code == 201, booked.text
    occurrence = _id(booked.json()["id"], two)
    moved = _move(api, client, occurrence, (two + timedelta(days=1)).replace(second=30))
    assert moved.status_code == 422, moved.text
    assert "start" in _fields(moved)
    window = (eleven - timedelta(days=1), eleven + timedelta(days=3))
    assert [(i["id"], datetime.fromisoformat(i["start"])) for i in _items(api, client, *window)] == [
        (occurrence, two)]


# --- 6. Series status tells the truth --------------------------------------------------

def _clients_page_series(therapist, series_id: str) -> dict:
    from therabee.services import people
    from therabee.services.therapist_views import clients_with_series

    page = clients_with_series(people.get_user(therapist.id))
    return next(s for c in page for s in c["series"] if s["id"] == series_id)


def test_an_ended_series_stays_active_and_changeable_until_its_last_occurrence_is_past(api, frozen):
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=1)
    nth = [start + timedelta(weeks=n) for n in range(4)]  # occurrences 1–4, Tuesdays 10:00
    booked = book(api, client, therapist, start)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    ended = api.post(f"{API}/series/{series_id}/end", headers=client.auth, json={"from": nth[3].isoformat()})
    assert ended.status_code == 200, ended.text
    for shown in (ended.json(), _series(api, client, series_id)):
        assert shown["status"] == "active"
        assert datetime.fromisoformat(shown["ends_before"]) == nth[3]
    listed = api.get(f"{API}/series", headers=client.auth).json()["items"]
    assert [(s["id"], s["status"]) for s in listed] == [(series_id, "active")]
    on_page = _clients_page_series(therapist, series_id)
    assert on_page["status"] == "active" and on_page["next_occurrence"] == nth[0]

    moved_to = nth[1] + timedelta(days=1, hours=1)  # the second one, to Wednesday 11:00
    assert _move(api, client, _id(series_id, nth[1]), moved_to).status_code == 200
    cancelled = api.post(f"{API}/occurrences/{_id(series_id, nth[0])}/cancel", headers=client.auth, json={})
    assert cancelled.status_code == 200, cancelled.text
    shorter = api.post(f"{API}/series/{series_id}/end", headers=client.auth, json={"from": nth[2].isoformat()})
    assert shorter.status_code == 200, shorter.text  # not "series: has ended"
    frozen["now"] = moved_to - timedelta(hours=1)
    assert _series(api, client, series_id)["status"] == "active"
    frozen["now"] = moved_to + timedelta(minutes=50) + timedelta(hours=1)
    assert _series(api, client, series_id)["status"] == "ended"


def test_the_older_half_of_a_split_stays_active_until_its_last_occurrence_is_past(api, frozen):
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=1)
    nth = [start + timedelta(weeks=n) for n in range(4)]
    booked = book(api, client, therapist, start)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    split = api.post(f"{API}/series/{series_id}/split", headers=client.auth, json={
        "from": nth[3].isoformat(), "start": (nth[3] + timedelta(hours=1)).isoformat()})
    assert split.status_code == 201, split.text
    old = _series(api, client, series_id)
    assert old["status"] == "active" and datetime.fromisoformat(old["ends_before"]) == nth[3]
    listed = {s["id"]: s["status"] for s in api.get(f"{API}/series", headers=client.auth).json()["items"]}
    assert listed == {series_id: "active", split.json()["id"]: "active"}
    assert _clients_page_series(therapist, series_id)["next_occurrence"] == nth[0]
    frozen["now"] = nth[2] + timedelta(hours=2)
    assert _series(api, client, series_id)["status"] == "ended"


# --- 9. A split keeps later single changes ---------------------------------------------

@pytest.fixture
def weekly_tuesdays(api):
    """A client's weekly Tuesday 10:00 New York series from next week; `nth(n)` is the n-th
    occurrence's original start (1-based)."""
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=1)
    booked = book(api, client, therapist, start)
    assert booked.status_code == 201, booked.text
    return SimpleNamespace(therapist=therapist, client=client, id=booked.json()["id"],
                           nth=lambda n: start + timedelta(weeks=n - 1))


def test_a_split_carries_a_later_cancellation_and_move_to_the_new_series(api, weekly_tuesdays):
    w, nth = weekly_tuesdays, weekly_tuesdays.nth
    cancel = api.post(f"{API}/occurrences/{_id(w.id, nth(6))}/cancel", headers=w.client.auth, json={})
    assert cancel.status_code == 200, cancel.text
    moved_to = nth(7) + timedelta(days=2, hours=4)  # Thursday 14:00 of that week
    assert _move(api, w.client, _id(w.id, nth(7)), moved_to).status_code == 200
    split = api.post(f"{API}/series/{w.id}/split", headers=w.client.auth, json={
        "from": nth(5).isoformat(), "start": (nth(5) + timedelta(hours=1)).isoformat()})
    assert split.status_code == 201, split.text
    new_id = split.json()["id"]

    items = _items(api, w.client, nth(5) - timedelta(days=1), nth(9) - timedelta(days=1))
    assert _scheduled_starts(items) == {nth(5) + timedelta(hours=1), moved_to, nth(8) + timedelta(hours=1)}
    week_6 = [i for i in items if nth(6) - timedelta(days=1) <= datetime.fromisoformat(i["start"]) < nth(7)
              - timedelta(days=1)]
    assert all(i["status"] in CANCELLED for i in week_6)
    [carried] = [i for i in items if datetime.fromisoformat(i["start"]) == moved_to]
    assert carried["series_id"] == new_id
    assert split.json()["not_carried"] == []


def test_a_split_to_every_other_week_says_which_later_change_it_could_not_carry(api, weekly_tuesdays):
    w, nth = weekly_tuesdays, weekly_tuesdays.nth
    moved_to = nth(6) + timedelta(days=2, hours=4)  # Thursday 14:00 of week 6
    assert _move(api, w.client, _id(w.id, nth(6)), moved_to).status_code == 200
    cancel = api.post(f"{API}/occurrences/{_id(w.id, nth(7))}/cancel", headers=w.client.auth, json={})
    assert cancel.status_code == 200, cancel.text
    split = api.post(f"{API}/series/{w.id}/split", headers=w.client.auth, json={
        "from": nth(5).isoformat(), "start": (nth(5) + timedelta(hours=1)).isoformat(),
        "rrule": "FREQ=WEEKLY;INTERVAL=2"})
    assert split.status_code == 201, split.text

    # the new series has weeks 5, 7, 9 at 11:00: week 6's move has nowhere to go, week 7 stays cancelled
    items = _items(api, w.client, nth(5) - timedelta(days=1), nth(10) - timedelta(days=1))
    assert _scheduled_starts(items) == {nth(5) + timedelta(hours=1), nth(9) + timedelta(hours=1)}
    assert [datetime.fromisoformat(s) for s in split.json()["not_carried"]] == [nth(6)]


# --- A sessions_limit series counts its held sessions from its start, whatever the window ---

def test_a_limited_series_ends_at_the_same_session_whatever_window_is_listed(api):
    """Weekly, `sessions_limit: 3`, time off over #2: the sessions are #1, #3, #4 — also
    when a later window is listed alone (the time off lies before it) — and #4's time is
    busy for another client."""
    therapist = therapist_with_hours(api, ZONE)
    client, other = register(api, "client", ZONE), register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE, weeks_ahead=1)
    booked = book(api, client, therapist, start, sessions_limit=3)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    nth = [start + timedelta(weeks=k) for k in range(6)]  # 10:00 New York every Tuesday
    off = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (nth[1] - timedelta(hours=1)).isoformat(), "end": (nth[1] + timedelta(hours=2)).isoformat()})
    assert off.status_code == 201, off.text
    expected = [_id(series_id, nth[k]) for k in (0, 2, 3)]
    wide = _items(api, client, nth[0] - timedelta(days=1), nth[0] + timedelta(weeks=8))
    assert [i["id"] for i in wide] == expected
    late = _items(api, client, nth[3] - timedelta(days=1), nth[3] + timedelta(days=1))
    assert [i["id"] for i in late] == expected[2:]
    refused = book(api, other, therapist, nth[3], rrule=None)
    assert refused.status_code == 409, refused.text
    assert _conflict_ids(refused) == {expected[2]}
