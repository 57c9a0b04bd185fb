"""The eager design, built as faithfully as we can (WORKLOAD.md), on its own database.

At booking it writes, for every occurrence in the next 26 weeks, a session row, a slot
row (the therapist's time held) and a meeting row, and calls the provider's create once
per occurrence; a weekly top-up keeps 26 weeks written ahead; every change rewrites the
affected future rows and updates or deletes each affected meeting at the provider.
Conflicts are checked against the slot rows (all it can see) under a per-therapist lock.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from therabee.scheduling.conflicts import Busy, WeeklyHours, find_conflicts, free_slots
from therabee.scheduling.expand import SeriesSpec, rule_starts
from therabee.scheduling.rules import parse_rule
from therabee.scheduling.timezones import to_local, zone

AHEAD = timedelta(weeks=26)
PAD = timedelta(minutes=10)

SCHEMA = """
CREATE TABLE e_therapists (id text PRIMARY KEY, timezone text NOT NULL, weekly jsonb NOT NULL);
CREATE TABLE e_series (
    id text PRIMARY KEY, therapist_id text NOT NULL REFERENCES e_therapists, client_id text NOT NULL,
    start timestamptz NOT NULL, timezone text NOT NULL, duration_minutes int NOT NULL, rrule text,
    status text NOT NULL DEFAULT 'active', parent_id text REFERENCES e_series,
    ends_before timestamptz, written_until timestamptz NOT NULL);
CREATE INDEX ON e_series (therapist_id);
CREATE TABLE e_pauses (id text PRIMARY KEY, series_id text NOT NULL REFERENCES e_series,
    from_date date NOT NULL, until_date date NOT NULL);
CREATE TABLE e_sessions (
    id text PRIMARY KEY, series_id text NOT NULL REFERENCES e_series, therapist_id text NOT NULL,
    original_start timestamptz NOT NULL, start timestamptz NOT NULL, "end" timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'scheduled', UNIQUE (series_id, original_start));
CREATE INDEX ON e_sessions (therapist_id, start);
CREATE TABLE e_slots (id text PRIMARY KEY, therapist_id text NOT NULL,
    session_id text NOT NULL UNIQUE REFERENCES e_sessions ON DELETE CASCADE,
    start timestamptz NOT NULL, "end" timestamptz NOT NULL);
CREATE INDEX ON e_slots (therapist_id, start);
CREATE TABLE e_meetings (id text PRIMARY KEY,
    session_id text NOT NULL UNIQUE REFERENCES e_sessions ON DELETE CASCADE,
    provider_id text, join_url text, start timestamptz NOT NULL, status text NOT NULL DEFAULT 'live');
"""


def _id() -> str:
    return str(uuid.uuid4())


class Eager:
    """One eager scheduler; `rows` attributes every row written to an occurrence (for waste)."""

    def __init__(self, database_url: str, provider) -> None:
        self.engine = sa.create_engine(database_url, pool_size=2)
        self.provider = provider
        self.rows: dict[str, int] = defaultdict(int)  # session id -> rows written for it
        self.intent_rows = 0

    def create_schema(self) -> None:
        with self.engine.begin() as c:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    c.exec_driver_sql(statement)

    def add_therapist(self, therapist_id: str, zone_name: str, weekly: list[dict]) -> None:
        with self.engine.begin() as c:
            c.execute(sa.text("INSERT INTO e_therapists VALUES (:id, :tz, CAST(:w AS jsonb))"),
                      {"id": therapist_id, "tz": zone_name, "w": json.dumps(weekly)})

    # -- occurrences -------------------------------------------------------------------

    @staticmethod
    def _starts(row, from_: datetime, to: datetime) -> list[datetime]:
        spec = SeriesSpec(id=row.id, start=row.start, zone=row.timezone,
                          duration=timedelta(minutes=row.duration_minutes),
                          rule=parse_rule(row.rrule, zone(row.timezone), 10**6), ends_before=row.ends_before)
        return rule_starts(spec, max(from_, row.start), to)

    def _paused(self, c, series_id: str) -> list[tuple[date, date]]:
        return [(p.from_date, p.until_date) for p in c.execute(
            sa.text("SELECT from_date, until_date FROM e_pauses WHERE series_id = :s"), {"s": series_id})]

    def _write(self, c, row, starts: list[datetime]) -> None:
        """Session + slot + meeting rows, one provider create per occurrence."""
        duration = timedelta(minutes=row.duration_minutes)
        sessions, slots, meetings = [], [], []
        for start in starts:
            sid = _id()
            sessions.append({"id": sid, "series": row.id, "t": row.therapist_id, "o": start, "s": start,
                             "e": start + duration})
            slots.append({"id": _id(), "t": row.therapist_id, "sid": sid, "s": start, "e": start + duration})
            meeting = self.provider.create_meeting(start=start, duration_minutes=row.duration_minutes,
                                                   timezone=row.timezone, marker=secrets.token_hex(16))
            meetings.append({"id": _id(), "sid": sid, "p": meeting.id, "u": meeting.join_url, "s": start})
            self.rows[sid] += 3
        if not sessions:
            return
        c.execute(sa.text('INSERT INTO e_sessions (id, series_id, therapist_id, original_start, start, "end")'
                          " VALUES (:id, :series, :t, :o, :s, :e)"), sessions)
        c.execute(sa.text('INSERT INTO e_slots (id, therapist_id, session_id, start, "end")'
                          " VALUES (:id, :t, :sid, :s, :e)"), slots)
        c.execute(sa.text("INSERT INTO e_meetings (id, session_id, provider_id, join_url, start)"
                          " VALUES (:id, :sid, :p, :u, :s)"), meetings)

    def _lock(self, c, therapist_id: str) -> None:
        c.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": therapist_id})

    def _series(self, c, series_id: str):
        return c.execute(sa.text("SELECT * FROM e_series WHERE id = :id FOR UPDATE"), {"id": series_id}).one()

    # -- the use cases -----------------------------------------------------------------

    def book(self, therapist_id: str, client_id: str, start: datetime, zone_name: str, rrule: str | None,
             now: datetime, duration_minutes: int = 50, parent_id: str | None = None, c=None) -> str:
        """Check the 26 written weeks against the therapist's slots, then write them all."""
        if c is None:
            with self.engine.begin() as c:
                return self.book(therapist_id, client_id, start, zone_name, rrule, now, duration_minutes,
                                 parent_id, c)
        self._lock(c, therapist_id)
        row_id = _id()
        until = now + AHEAD
        row = _Row(id=row_id, therapist_id=therapist_id, start=start, timezone=zone_name,
                   duration_minutes=duration_minutes, rrule=rrule, ends_before=None)
        starts = self._starts(row, start, until)
        duration = timedelta(minutes=duration_minutes)
        busy = [Busy(b.start, b.end, b.id) for b in c.execute(sa.text(
            'SELECT id, start, "end" FROM e_slots WHERE therapist_id = :t AND start < :to AND "end" > :from'),
            {"t": therapist_id, "from": start - duration - PAD, "to": until + duration})]
        if find_conflicts([(s, s + duration) for s in starts], busy, PAD):
            raise ValueError("conflict")
        c.execute(sa.text("INSERT INTO e_series (id, therapist_id, client_id, start, timezone, duration_minutes,"
                          " rrule, parent_id, written_until) VALUES (:id, :t, :c, :s, :tz, :d, :r, :p, :w)"),
                  {"id": row_id, "t": therapist_id, "c": client_id, "s": start, "tz": zone_name,
                   "d": duration_minutes, "r": rrule, "p": parent_id, "w": until})
        self.intent_rows += 1
        self._write(c, row, starts)
        return row_id

    def top_up(self, now: datetime) -> int:
        """The weekly job: every active series written 26 weeks ahead again."""
        written = 0
        until = now + AHEAD
        with self.engine.connect() as c:
            ids = [r.id for r in c.execute(sa.text(
                "SELECT id FROM e_series WHERE status = 'active' AND written_until < :u"), {"u": until})]
        for series_id in ids:
            with self.engine.begin() as c:
                row = self._series(c, series_id)
                pauses = self._paused(c, series_id)
                tz = zone(row.timezone)
                starts = [s for s in self._starts(row, row.written_until, until)
                          if not any(a <= to_local(s, tz).date() <= b for a, b in pauses)]
                self._write(c, row, starts)
                c.execute(sa.text("UPDATE e_series SET written_until = :u WHERE id = :id"),
                          {"u": until, "id": series_id})
                self.intent_rows += 1
                written += len(starts)
        return written

    def _future(self, c, series_id: str, where: str, params: dict):
        return list(c.execute(sa.text(
            "SELECT s.id, s.original_start, s.start, m.provider_id FROM e_sessions s"
            " JOIN e_meetings m ON m.session_id = s.id"
            f" WHERE s.series_id = :sid AND s.status = 'scheduled' AND {where} ORDER BY s.original_start"),
            {"sid": series_id, **params}))

    def _delete(self, c, sessions) -> None:
        for s in sessions:
            self.provider.delete_meeting(s.provider_id)
            self.rows[s.id] += 3
        ids = [s.id for s in sessions]
        if ids:
            for table, column in (("e_meetings", "session_id"), ("e_slots", "session_id"), ("e_sessions", "id")):
                c.execute(sa.text(f"DELETE FROM {table} WHERE {column} = ANY(:ids)"), {"ids": ids})

    def end(self, series_id: str, from_: datetime) -> None:
        with self.engine.begin() as c:
            self._series(c, series_id)
            c.execute(sa.text("UPDATE e_series SET status = 'ended', ends_before = :f WHERE id = :id"),
                      {"f": from_, "id": series_id})
            self.intent_rows += 1
            self._delete(c, self._future(c, series_id, "s.original_start >= :f", {"f": from_}))

    def pause(self, series_id: str, from_date: date, until_date: date) -> None:
        with self.engine.begin() as c:
            row = self._series(c, series_id)
            c.execute(sa.text("INSERT INTO e_pauses VALUES (:id, :s, :a, :b)"),
                      {"id": _id(), "s": series_id, "a": from_date, "b": until_date})
            self.intent_rows += 1
            tz = zone(row.timezone)
            hit = [s for s in self._future(c, series_id, "TRUE", {})
                   if from_date <= to_local(s.original_start, tz).date() <= until_date]
            for s in hit:
                self._cancel_one(c, s, "paused")

    def _cancel_one(self, c, s, status: str) -> None:
        self.provider.delete_meeting(s.provider_id)
        c.execute(sa.text("UPDATE e_sessions SET status = :st WHERE id = :id"), {"st": status, "id": s.id})
        c.execute(sa.text("DELETE FROM e_slots WHERE session_id = :id"), {"id": s.id})
        c.execute(sa.text("UPDATE e_meetings SET status = 'deleted' WHERE session_id = :id"), {"id": s.id})
        self.rows[s.id] += 3

    def split(self, series_id: str, from_: datetime, start: datetime, rrule: str, now: datetime) -> str:
        """This and following: the new rule's occurrences take over the old future rows
        pairwise (updated, meeting moved); leftovers are deleted or written."""
        with self.engine.begin() as c:
            old = self._series(c, series_id)
            self._lock(c, old.therapist_id)
            c.execute(sa.text("UPDATE e_series SET status = 'ended', ends_before = :f WHERE id = :id"),
                      {"f": from_, "id": series_id})
            new_id = _id()
            until = now + AHEAD
            c.execute(sa.text("INSERT INTO e_series (id, therapist_id, client_id, start, timezone,"
                              " duration_minutes, rrule, parent_id, written_until)"
                              " SELECT :n, therapist_id, client_id, :s, timezone, duration_minutes, :r, id, :w"
                              " FROM e_series WHERE id = :id"),
                      {"n": new_id, "s": start, "r": rrule, "w": until, "id": series_id})
            self.intent_rows += 2
            new = _Row(id=new_id, therapist_id=old.therapist_id, start=start, timezone=old.timezone,
                       duration_minutes=old.duration_minutes, rrule=rrule, ends_before=None)
            old_rows = self._future(c, series_id, "s.original_start >= :f", {"f": from_})
            new_starts = self._starts(new, start, until)
            duration = timedelta(minutes=old.duration_minutes)
            for s, target in zip(old_rows, new_starts):
                self.provider.update_meeting(s.provider_id, start=target, duration_minutes=old.duration_minutes,
                                             timezone=old.timezone)
                c.execute(sa.text('UPDATE e_sessions SET series_id = :n, original_start = :t, start = :t,'
                                  ' "end" = :e WHERE id = :id'), {"n": new_id, "t": target, "e": target + duration,
                                                                  "id": s.id})
                c.execute(sa.text('UPDATE e_slots SET start = :t, "end" = :e WHERE session_id = :id'),
                          {"t": target, "e": target + duration, "id": s.id})
                c.execute(sa.text("UPDATE e_meetings SET start = :t WHERE session_id = :id"),
                          {"t": target, "id": s.id})
                self.rows[s.id] += 3
            self._delete(c, old_rows[len(new_starts):])
            self._write(c, new, new_starts[len(old_rows):])
            return new_id

    def _occurrence(self, c, series_id: str, original: datetime):
        return c.execute(sa.text(
            "SELECT s.id, s.original_start, s.start, m.provider_id FROM e_sessions s"
            " JOIN e_meetings m ON m.session_id = s.id WHERE s.series_id = :sid AND s.original_start = :o"
            " FOR UPDATE OF s"), {"sid": series_id, "o": original}).one()

    def cancel(self, series_id: str, original: datetime) -> None:
        with self.engine.begin() as c:
            self._cancel_one(c, self._occurrence(c, series_id, original), "cancelled")

    def move(self, series_id: str, original: datetime, start: datetime, timezone_name: str) -> None:
        with self.engine.begin() as c:
            s = self._occurrence(c, series_id, original)
            end = start + timedelta(minutes=50)
            self.provider.update_meeting(s.provider_id, start=start, duration_minutes=50, timezone=timezone_name)
            c.execute(sa.text('UPDATE e_sessions SET start = :s, "end" = :e WHERE id = :id'),
                      {"s": start, "e": end, "id": s.id})
            c.execute(sa.text('UPDATE e_slots SET start = :s, "end" = :e WHERE session_id = :id'),
                      {"s": start, "e": end, "id": s.id})
            c.execute(sa.text("UPDATE e_meetings SET start = :s WHERE session_id = :id"), {"s": start, "id": s.id})
            self.rows[s.id] += 3

    def complete(self, series_id: str, original: datetime) -> None:
        with self.engine.begin() as c:
            s = self._occurrence(c, series_id, original)
            c.execute(sa.text("UPDATE e_sessions SET status = 'completed' WHERE id = :id"), {"id": s.id})
            self.rows[s.id] += 1

    # -- reads ---------------------------------------------------------------------------

    def week(self, therapist_id: str, from_: datetime, to: datetime) -> list:
        with self.engine.connect() as c:
            return list(c.execute(sa.text(
                'SELECT s.id, s.series_id, s.start, s."end", s.status, m.join_url FROM e_sessions s'
                " JOIN e_meetings m ON m.session_id = s.id"
                " WHERE s.therapist_id = :t AND s.start >= :f AND s.start < :to ORDER BY s.start"),
                {"t": therapist_id, "f": from_, "to": to}))

    def free_slots(self, therapist_id: str, from_: datetime, to: datetime) -> list:
        duration = timedelta(minutes=50)
        with self.engine.connect() as c:
            t = c.execute(sa.text("SELECT timezone, weekly FROM e_therapists WHERE id = :t"),
                          {"t": therapist_id}).one()
            busy = [Busy(b.start, b.end) for b in c.execute(sa.text(
                'SELECT start, "end" FROM e_slots WHERE therapist_id = :t AND start < :to AND "end" > :f'),
                {"t": therapist_id, "f": from_ - duration, "to": to + duration})]
        weekly = [WeeklyHours(b["weekday"], datetime.strptime(b["start"], "%H:%M").time(),
                              datetime.strptime(b["end"], "%H:%M").time()) for b in t.weekly]
        return free_slots(weekly, t.timezone, busy, from_, to, duration, timedelta(minutes=30), pad=PAD)

    def waste(self) -> tuple[int, int]:
        """(rows written for occurrences that took place, rows for those that did not)."""
        with self.engine.connect() as c:
            done = {r.id for r in c.execute(sa.text("SELECT id FROM e_sessions WHERE status = 'completed'"))}
        useful = sum(n for sid, n in self.rows.items() if sid in done)
        return useful, sum(self.rows.values()) - useful


class _Row:
    def __init__(self, **values) -> None:
        self.__dict__.update(values)
