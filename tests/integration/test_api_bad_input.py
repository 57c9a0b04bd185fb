"""Bad input: a clear problem+json naming the field, and nothing written (DESIGN.md rule 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from tests.integration.pg_counters import table_writes
from therabee.services import clock

ZONE = "America/New_York"


@dataclass
class World:
    therapist: object
    client: object
    series_id: str
    start: datetime  # a Tuesday 10:00 New York, the series' first occurrence

    def series(self, **changes) -> dict:
        body = {"therapist_id": self.therapist.id, "start": self.start.isoformat(),
                "duration_minutes": 50, "rrule": "FREQ=WEEKLY"}
        body.update(changes)
        return {k: v for k, v in body.items() if v is not DROP}


DROP = object()


@pytest.fixture
def world(api) -> World:
    therapist = therapist_with_hours(api, ZONE)
    client = register(api, "client", ZONE)
    start = next_weekday_at(1, 10, ZONE)
    response = book(api, client, therapist, next_weekday_at(2, 10, ZONE))  # Wednesdays: no clash
    assert response.status_code == 201, response.text
    return World(therapist, client, response.json()["id"], start)


def _iso(instant: datetime) -> str:
    return instant.isoformat()


def _registration(**changes) -> dict:
    body = {"email": "someone@example.test", "password": "correct horse battery", "name": "Someone",
            "role": "client", "timezone": ZONE}
    body.update(changes)
    return body


def _series(**changes):
    return lambda w: ("post", "/series", {"json": w.series(**changes)}, w.client)


def _raw_series(content: bytes):
    return lambda w: ("post", "/series", {"content": content,
                                          "headers": {"content-type": "application/json"}}, w.client)


def _occurrence(method: str, occurrence_id: str, body: dict | None = None):
    suffix = {"get": "", "cancel": "/cancel", "move": "/move"}[method]
    verb = "get" if method == "get" else "post"

    def build(w):
        kwargs = {"json": body} if body is not None else {}
        return verb, f"/occurrences/{occurrence_id}{suffix}", kwargs, w.client
    return build


def _move_body(w_start_offset_days: int = 30) -> dict:
    start = clock.now().replace(second=0, microsecond=0) + timedelta(days=w_start_offset_days)
    return {"start": _iso(start)}  # a whole minute: only the occurrence id is wrong


def _register(**changes):
    return lambda w: ("post", "/auth/register", {"json": _registration(**changes)}, None)


def _availability(weekly: list):
    return lambda w: ("put", "/therapists/me/availability",
                      {"json": {"timezone": ZONE, "weekly": weekly}}, w.therapist)


def _pause(from_days: int, until_days: int):
    def build(w):
        today = clock.now().date()
        body = {"from": str(today + timedelta(days=from_days)),
                "until": str(today + timedelta(days=until_days))}
        return "post", f"/series/{w.series_id}/pauses", {"json": body}, w.client
    return build


def _slots_backwards(w):
    params = {"from": _iso(w.start + timedelta(days=7)), "to": _iso(w.start), "duration_minutes": 50}
    return "get", f"/therapists/{w.therapist.id}/slots", {"params": params}, w.client


def _occurrences_window(days: int):
    return lambda w: ("get", "/occurrences", {"params": {
        "from": _iso(w.start), "to": _iso(w.start + timedelta(days=days))}}, w.client)


def _at(hour: int, weekday: int = 1):
    return lambda w: ("post", "/series", {"json": w.series(
        start=_iso(next_weekday_at(weekday, hour, ZONE)))}, w.client)


CASES = [
    # (id, request builder, expected status, expected field or None)
    ("rrule-not-a-rule", _series(rrule="EVERY TUESDAY PLEASE"), 422, "rrule"),
    ("rrule-hourly", _series(rrule="FREQ=HOURLY"), 422, "rrule"),
    ("rrule-secondly", _series(rrule="FREQ=SECONDLY"), 422, "rrule"),
    ("rrule-minutely", _series(rrule="FREQ=MINUTELY"), 422, "rrule"),
    ("rrule-yearly", _series(rrule="FREQ=YEARLY"), 422, "rrule"),
    ("rrule-bysetpos", _series(rrule="FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1"), 422, "rrule"),
    ("rrule-byhour", _series(rrule="FREQ=WEEKLY;BYHOUR=10,11"), 422, "rrule"),
    ("rrule-count-zero", _series(rrule="FREQ=WEEKLY;COUNT=0"), 422, "rrule"),
    ("rrule-count-huge", _series(rrule="FREQ=WEEKLY;COUNT=10000"), 422, "rrule"),
    ("rrule-count-and-until", _series(rrule="FREQ=WEEKLY;COUNT=3;UNTIL=20991231T000000Z"), 422, "rrule"),
    ("rrule-as-number", _series(rrule=7), 422, "rrule"),
    ("unknown-zone", _series(timezone="Mars/Olympus_Mons"), 422, "timezone"),
    ("duration-zero", _series(duration_minutes=0), 422, "duration_minutes"),
    ("duration-negative", _series(duration_minutes=-50), 422, "duration_minutes"),
    ("duration-huge", _series(duration_minutes=100_000), 422, "duration_minutes"),
    ("duration-as-string", _series(duration_minutes="50"), 422, "duration_minutes"),
    ("start-in-past", _series(start=_iso(clock.now() - timedelta(days=1))), 422, "start"),
    ("start-naive", _series(start="2031-03-04T10:00:00"), 422, "start"),
    ("start-at-3am-local", _at(3), 422, "start"),
    ("start-on-sunday", _at(10, weekday=6), 422, "start"),
    ("start-not-on-byday", _series(rrule="FREQ=WEEKLY;BYDAY=MO"), 422, "start"),
    ("sessions-limit-zero", _series(sessions_limit=0), 422, "sessions_limit"),
    ("missing-start", _series(start=DROP), 422, "start"),
    ("missing-duration", _series(duration_minutes=DROP), 422, "duration_minutes"),
    ("missing-therapist", _series(therapist_id=DROP), 422, "therapist_id"),
    ("therapist-id-as-list", lambda w: _series(therapist_id=[w.therapist.id])(w), 422, "therapist_id"),
    ("therapist-id-of-a-client", lambda w: _series(therapist_id=w.client.id)(w), 422, "therapist_id"),
    ("unknown-extra-field", _series(colour="teal"), 422, "colour"),
    ("malformed-json", _raw_series(b'{"therapist_id": "x", "start": '), 422, "body"),
    ("empty-body", _raw_series(b""), 422, "body"),
    ("oversized-body", _series(rrule="FREQ=WEEKLY", note="x" * (1024 * 1024 + 10)), 413, "body"),
    ("occurrence-get-nope", _occurrence("get", "nope"), 404, None),
    ("occurrence-get-short", _occurrence("get", "x:2026"), 404, None),
    ("occurrence-get-impossible-date", _occurrence("get", "series:20261399T000000Z"), 404, None),
    ("occurrence-cancel-nope", _occurrence("cancel", "nope", {}), 404, None),
    ("occurrence-cancel-short", _occurrence("cancel", "x:2026", {}), 404, None),
    ("occurrence-move-nope", _occurrence("move", "nope", _move_body()), 404, None),
    ("occurrence-move-impossible-date",
     _occurrence("move", "series:20261399T000000Z", _move_body()), 404, None),
    ("series-id-malformed", lambda w: ("get", "/series/not-a-series", {}, w.client), 404, None),
    ("register-bad-email", _register(email="not-an-email"), 422, "email"),
    ("register-short-password", _register(password="short"), 422, "password"),
    ("register-unknown-role", _register(role="admin"), 422, "role"),
    ("register-unknown-zone", _register(timezone="Europe/Atlantis"), 422, "timezone"),
    ("pause-until-before-from", _pause(20, 10), 422, "until"),
    ("availability-weekday-7", _availability([{"weekday": 7, "start": "09:00", "end": "17:00"}]),
     422, "weekly[0].weekday"),
    ("availability-end-before-start", _availability([{"weekday": 1, "start": "17:00", "end": "09:00"}]),
     422, "weekly[0].end"),
    ("availability-hour-without-zero", _availability([{"weekday": 1, "start": "9:00", "end": "17:00"}]),
     422, "weekly[0].start"),
    ("slots-to-before-from", _slots_backwards, 422, "to"),
    ("occurrences-window-over-limit", _occurrences_window(401), 422, "to"),
    ("no-token", lambda w: ("post", "/series", {"json": w.series()}, None), 401, None),
]


def _send(api, world: World, builder):
    method, path, kwargs, who = builder(world)
    kwargs = dict(kwargs)
    if who is not None:
        kwargs["headers"] = {**kwargs.get("headers", {}), **who.auth}
    return getattr(api, method)(f"{API}{path}", **kwargs)


def _check(response, status: int, field: str | None) -> list[str]:
    """What is wrong with this answer (empty when it is the problem we expect)."""
    wrong = []
    if response.status_code != status:
        return [f"status {response.status_code} != {status}: {response.text[:300]}"]
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        wrong.append(f"content-type {response.headers.get('content-type')}")
    body = response.json()
    missing = {"type", "title", "status", "detail"} - set(body)
    if missing:
        wrong.append(f"missing {sorted(missing)}")
    if body.get("status") != status:
        wrong.append(f"body status {body.get('status')}")
    if field is not None:
        fields = [e.get("field") for e in body.get("errors", [])]
        if field not in fields:
            wrong.append(f"errors name {fields}, not {field!r}")
    return wrong


@pytest.mark.parametrize("builder, status, field", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_request_is_a_problem_naming_the_field(api, world, builder, status, field):
    assert _check(_send(api, world, builder), status, field) == []


def test_the_whole_catalogue_writes_no_row(api, world):
    assert len(CASES) >= 30
    before = table_writes()
    wrong = {}
    for name, builder, status, field in CASES:
        problems = _check(_send(api, world, builder), status, field)
        if problems:
            wrong[name] = problems
    after = table_writes()
    assert wrong == {}
    assert after == before
