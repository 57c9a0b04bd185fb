"""Migration 0005 rounds the instants of rows written before issue 12 fault 5 down to the whole
minute; their occurrences can then be cancelled and their series ended through the API.

The rows are made through the API (whole minutes), recorded, and then given seconds through
SQL, as the old code wrote them: a recurring series whole seconds (a fraction made its rule
refuse the start, since dateutil drops it), a one-off a fraction too. After the migration every
instant must be back at its recorded value — rounding to the nearest minute would land on the
next one — and the rows that had no seconds must be untouched. Two back-to-back sessions of
one therapist are rounded too: on PostgreSQL the exclusion constraint on sessions sees each
row as it is rounded."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours
from therabee.services import clock, horizon
from therabee.testing.databases import ALEMBIC_INI

pytestmark = pytest.mark.dated

ZONE = "America/New_York"
MINUTES = 50
# Both round to the *next* minute if rounded to the nearest one.
SECONDS = timedelta(seconds=37)
FRACTION = timedelta(seconds=37, microseconds=250_000)

INSTANTS = {  # table → the instant columns the migration rounds
    "series": ("start", "ends_before", "cursor_start", "next_due_at"),
    "exceptions": ("original_start", "new_start"),
    "sessions": ("original_start", "start", "end"),
    "time_off": ("start", "end"),
}


def _id(series_id: str, instant: datetime) -> str:
    return f"{series_id}:{instant.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"


def _engine():
    from therabee.db.engine import get_engine

    return get_engine()


def _columns(table: str) -> str:
    return ", ".join(f'"{c}"' for c in INSTANTS[table])


def _rows(table: str) -> dict[str, tuple]:
    """Row id → its instants (aware UTC or None), read through SQL."""
    with _engine().connect() as c:
        found = c.execute(sa.text(f"SELECT id, {_columns(table)} FROM {table}")).all()
    return {row[0]: tuple(_utc(v) for v in row[1:]) for row in found}


def _utc(value) -> datetime | None:
    """An instant as the database hands it back: aware on PostgreSQL, UTC text on SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _shift(table: str, shifts: dict[str, timedelta], order: str = "id") -> None:
    """Move these rows' instants on by their shift through SQL, one row at a time in `order`
    (later sessions first, so the shift itself never overlaps on PostgreSQL)."""
    from therabee.db.types import UTCDateTime

    select_rows = sa.text(f"SELECT id, {_columns(table)} FROM {table} WHERE id IN :ids ORDER BY {order}")
    with _engine().begin() as c:
        for row_id, *values in c.execute(select_rows.bindparams(sa.bindparam("ids", expanding=True)),
                                         {"ids": list(shifts)}).all():
            shifted = {col: None if v is None else _utc(v) + shifts[row_id]
                       for col, v in zip(INSTANTS[table], values)}
            sets = ", ".join(f'"{col}" = :{col}' for col in shifted)
            update = sa.text(f"UPDATE {table} SET {sets} WHERE id = :id")
            c.execute(update.bindparams(*[sa.bindparam(col, type_=UTCDateTime()) for col in shifted]),
                      {**shifted, "id": row_id})


@pytest.fixture
def alembic_config(migrated_db):
    """The suite database's Alembic; back at head after the test."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", migrated_db)
    yield config
    command.upgrade(config, "head")


def _rerun_0005(config: Config) -> None:
    """Down to 0004 (0005 changes data only, and keeps it when going down) and back to head:
    0005 runs on the rows as they are. The rows are written at head, as the API needs."""
    command.downgrade(config, "0004")
    command.upgrade(config, "head")


@pytest.fixture
def old_rows(api, alembic_config):
    """A weekly series (Tuesdays 10:00 New York) with a moved, a cancelled and an ended
    occurrence, a session and a cursor, with whole seconds; another client's one-off right
    after its first session (also a session) and time off, with a fraction too — as the old
    code wrote them. A third client's one-off keeps whole minutes."""
    therapist = therapist_with_hours(api, ZONE)
    no_buffer = api.put(f"{API}/therapists/me/rules", headers=therapist.auth, json={"buffer_after_minutes": 0})
    assert no_buffer.status_code == 200, no_buffer.text
    first, second, third = (register(api, "client", ZONE) for _ in range(3))
    start = next_weekday_at(1, 10, ZONE)
    at = lambda k: start + timedelta(weeks=k)  # noqa: E731
    weekly = book(api, first, therapist, start, duration=MINUTES)
    after = book(api, second, therapist, start + timedelta(minutes=MINUTES), rrule=None, duration=MINUTES)
    untouched = book(api, third, therapist, at(1) + timedelta(hours=3), rrule=None, duration=MINUTES)
    for response in (weekly, after, untouched):
        assert response.status_code == 201, response.text
    weekly_id, one_off_id = weekly.json()["id"], after.json()["id"]
    assert api.post(f"{API}/occurrences/{_id(weekly_id, at(1))}/move", headers=first.auth,
                    json={"start": (at(1) + timedelta(days=1)).isoformat()}).status_code == 200
    assert api.post(f"{API}/occurrences/{_id(weekly_id, at(2))}/cancel", headers=first.auth,
                    json={}).status_code == 200
    assert api.post(f"{API}/series/{weekly_id}/end", headers=first.auth,
                    json={"from": at(8).isoformat()}).status_code == 200
    off = api.post(f"{API}/therapists/me/time-off", headers=therapist.auth, json={
        "start": (at(4) - timedelta(hours=1)).isoformat(), "end": (at(4) + timedelta(minutes=MINUTES)).isoformat()})
    assert off.status_code == 201, off.text
    clock.set_clock(lambda: at(0) - timedelta(days=1))
    assert horizon.tick().sessions_created == 2  # the weekly's first and the one-off after it

    recorded = {table: _rows(table) for table in INSTANTS}
    shift = {weekly_id: SECONDS, one_off_id: FRACTION}
    with _engine().connect() as c:
        exceptions = dict(c.execute(sa.text("SELECT id, series_id FROM exceptions")).all())
        sessions = dict(c.execute(sa.text("SELECT id, series_id FROM sessions")).all())
    assert set(exceptions.values()) == {weekly_id} and set(sessions.values()) == {weekly_id, one_off_id}
    _shift("series", shift)
    _shift("exceptions", {row_id: shift[series] for row_id, series in exceptions.items()})
    _shift("sessions", {row_id: shift[series] for row_id, series in sessions.items()}, order="start DESC")
    _shift("time_off", {off.json()["id"]: FRACTION})
    yield SimpleNamespace(first=first, second=second, weekly_id=weekly_id, one_off_id=one_off_id, at=at,
                          recorded=recorded, config=alembic_config,
                          shift={"series": shift, "exceptions": {i: shift[s] for i, s in exceptions.items()},
                                 "sessions": {i: shift[s] for i, s in sessions.items()},
                                 "time_off": {off.json()["id"]: FRACTION}})
    clock.set_clock(None)


def test_rounding_down_brings_back_the_whole_minutes_and_the_occurrences_can_be_changed(api, old_rows):
    first, weekly_id, at, recorded = old_rows.first, old_rows.weekly_id, old_rows.at, old_rows.recorded
    # the old rows: shifted, except the third client's one-off
    for table in INSTANTS:
        shift = old_rows.shift[table]
        assert _rows(table) == {row_id: tuple(None if v is None else v + shift.get(row_id, timedelta(0))
                                              for v in values)
                                for row_id, values in recorded[table].items()}, table
    assert recorded["series"][weekly_id][1:] == (at(8), at(0), at(1))  # ends_before, cursor, next due
    # a fraction is lost in the occurrence id; seconds may not be given to an end
    one_off = _id(old_rows.one_off_id, at(0) + timedelta(minutes=MINUTES) + FRACTION)
    assert api.post(f"{API}/occurrences/{one_off}/cancel", headers=old_rows.second.auth, json={}).status_code == 404
    refused = api.post(f"{API}/series/{weekly_id}/end", headers=first.auth,
                       json={"from": (at(6) + SECONDS).isoformat()})
    assert refused.status_code == 422, refused.text

    _rerun_0005(old_rows.config)

    assert {table: _rows(table) for table in INSTANTS} == recorded
    window = {"from": (at(0) - timedelta(days=1)).isoformat(), "to": at(12).isoformat(), "series_id": weekly_id}
    items = api.get(f"{API}/occurrences", headers=first.auth, params=window).json()["items"]
    assert [(datetime.fromisoformat(o["start"]), o["status"], o["materialized"]) for o in items] == [
        (at(0), "scheduled", True), (at(1) + timedelta(days=1), "scheduled", False),
        (at(2), "cancelled", False), (at(3), "scheduled", False), (at(5), "scheduled", False),
        (at(6), "scheduled", False), (at(7), "scheduled", False)]

    one_off = _id(old_rows.one_off_id, at(0) + timedelta(minutes=MINUTES))
    for who, occurrence_id in ((old_rows.second, one_off), (first, _id(weekly_id, at(3))),
                               (first, _id(weekly_id, at(0)))):
        cancelled = api.post(f"{API}/occurrences/{occurrence_id}/cancel", headers=who.auth, json={})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] in ("cancelled", "late_cancelled")
    ended = api.post(f"{API}/series/{weekly_id}/end", headers=first.auth, json={"from": at(6).isoformat()})
    assert ended.status_code == 200, ended.text
    assert datetime.fromisoformat(ended.json()["ends_before"]) == at(6)
    items = api.get(f"{API}/occurrences", headers=first.auth, params=window).json()["items"]
    assert [datetime.fromisoformat(o["start"]) for o in items if o["status"] == "scheduled"] == [
        at(1) + timedelta(days=1), at(5)]
