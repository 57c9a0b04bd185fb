"""The invariants every reliability scenario ends on, read straight from the database.

`check(engine, ...)` returns a `Verdict`: one entry per invariant with its violations
(empty = holds). A scenario fails when any invariant has a violation. The checker
reads PostgreSQL with plain SQL plus the service layer's own window expansion, so it
sees what the product sees; it never writes.

Invariants (DESIGN.md rules 3, 5, 7 and the meeting life cycle):
- sessions_unique: one session per occurrence identity (series_id, original_start);
- no_double_booking: no two active occurrences (virtual or materialized) of one
  therapist overlap, over the checked window;
- intent_consistent: every session and exception belongs to an occurrence of its
  series' rule, with the series' parties, and nothing active lies past a series'
  end or inside one of its pauses;
- no_lost_bookings / no_lost_cancels: what the API acknowledged is in the database;
- unique_meetings, no_orphaned_meetings, no_dangling_meetings, meetings_settled:
  with the video provider's meeting list, every meeting is held by exactly one session,
  every live session's meeting exists, and (settled) every upcoming live session has
  its meeting, at its time, while no cancelled one keeps one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.models import OccurrenceException, Pause, Series
from therabee.db.types import UTCDateTime
from therabee.scheduling.expand import ACTIVE_STATUSES, CANCELLED_STATUSES, is_occurrence
from therabee.scheduling.timezones import to_local, zone
from therabee.services.calendar_rows import load, series_spec

LIVE_MEETING_STATUSES = ("scheduled", "in_progress")
AGENDA_PREFIX = "ref:"


@dataclass
class Verdict:
    """Invariant name -> violations (human-readable strings, at most `cap` kept each)."""

    results: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    figures: dict[str, int] = field(default_factory=dict)
    cap: int = 20

    def add(self, name: str, violations: list[str]) -> None:
        self.results[name] = violations[: self.cap]
        self.counts[name] = len(violations)

    @property
    def ok(self) -> bool:
        return not any(self.counts.values())

    @property
    def broken(self) -> dict[str, int]:
        return {name: n for name, n in self.counts.items() if n}

    def as_dict(self) -> dict:
        return {"ok": self.ok, "violations": self.counts, "examples": {k: v for k, v in self.results.items() if v},
                "figures": self.figures}


# the instant columns the plain SQL below reads, typed so they come back aware UTC
_INSTANTS = {name: UTCDateTime() for name in ("original_start", "start", "end")}


def _rows(connection, sql: str, **params) -> list:
    return list(connection.execute(sa.text(sql).columns(**_INSTANTS), params))


def _sessions_unique(connection) -> list[str]:
    return [f"{series_id} @ {start}: {n} sessions" for series_id, start, n in _rows(connection, """
        SELECT series_id, original_start, count(*) FROM sessions
        GROUP BY series_id, original_start HAVING count(*) > 1""")]


def _materialized_overlaps(connection) -> list[str]:
    active = tuple(sorted(ACTIVE_STATUSES))
    return [f"therapist {t}: sessions {a} and {b} overlap" for t, a, b in _rows(connection, """
        SELECT a.therapist_id, a.id, b.id FROM sessions a JOIN sessions b
          ON a.therapist_id = b.therapist_id AND a.id < b.id
         AND a.start < b."end" AND b.start < a."end"
        WHERE a.status IN :active AND b.status IN :active""".replace(":active", repr(active)))]


def _virtual_overlaps(db: DbSession, from_: datetime, to: datetime) -> list[str]:
    """Expand every therapist's series over the window, as the product does; any overlap of
    two active occurrences is a double booking (buffers are practice rules, not this one)."""
    by_therapist: dict[str, list[Series]] = defaultdict(list)
    for row in db.exec(select(Series)):
        by_therapist[row.therapist_id].append(row)
    found = []
    for therapist_id, rows in by_therapist.items():
        occurrences = [o for _, o in load(db, from_, to, rows=rows).pairs(from_, to) if o.status in ACTIVE_STATUSES]
        occurrences.sort(key=lambda o: (o.start, o.end))
        latest = None
        for occurrence in occurrences:
            if latest is not None and occurrence.start < latest.end:
                found.append(f"therapist {therapist_id}: {latest.id.to_string()} and "
                             f"{occurrence.id.to_string()} overlap")
            if latest is None or occurrence.end > latest.end:
                latest = occurrence
    return found


def _paused(row: Series, pauses: list[Pause], instant: datetime) -> bool:
    day = to_local(instant, zone(row.timezone)).date() if pauses else None
    return any(p.from_date <= day <= p.until_date for p in pauses)


def _intent(db: DbSession, connection) -> list[str]:
    series = {row.id: row for row in db.exec(select(Series))}
    pauses: dict[str, list[Pause]] = defaultdict(list)
    for pause in db.exec(select(Pause)):
        pauses[pause.series_id].append(pause)
    wrong = []
    for sid, series_id, therapist_id, client_id, original, start, end, status in _rows(connection, """
            SELECT id, series_id, therapist_id, client_id, original_start, start, "end", status
            FROM sessions"""):
        row = series.get(series_id)
        if row is None:
            wrong.append(f"session {sid}: no series {series_id}")
            continue
        if (therapist_id, client_id) != (row.therapist_id, row.client_id):
            wrong.append(f"session {sid}: parties differ from its series")
        if not is_occurrence(series_spec(row), original):
            wrong.append(f"session {sid}: {original.isoformat()} is not an occurrence of its rule")
        if end <= start:
            wrong.append(f"session {sid}: ends before it starts")
        if status in ACTIVE_STATUSES:
            ends_before = row.ends_before
            if ends_before is not None and original >= ends_before:
                wrong.append(f"session {sid}: active after its series ended")
            if _paused(row, pauses[series_id], original):
                wrong.append(f"session {sid}: active inside a pause")
    for exception in db.exec(select(OccurrenceException)):
        row = series.get(exception.series_id)
        if row is None or not is_occurrence(series_spec(row), exception.original_start):
            wrong.append(f"exception {exception.id}: not an occurrence of series {exception.series_id}")
        elif exception.kind == "moved" and exception.new_start is None:
            wrong.append(f"exception {exception.id}: moved without a new start")
    for series_id, start in _rows(connection, """
            SELECT e.series_id, e.original_start FROM exceptions e JOIN sessions s
              ON s.series_id = e.series_id AND s.original_start = e.original_start
            WHERE e.kind IN ('cancelled', 'late_cancelled') AND s.status IN ('scheduled', 'in_progress')"""):
        wrong.append(f"{series_id} @ {start}: cancelled by exception, active as a session")
    return wrong


def _lost(connection, booked: list[str], cancelled: list[tuple[str, datetime]]) -> tuple[list[str], list[str]]:
    present = {sid for (sid,) in _rows(connection, "SELECT id FROM series")}
    lost = [f"series {sid} was acknowledged (201) but is not stored" for sid in booked if sid not in present]
    gone = set()
    for kind_table in ("sessions", "exceptions"):
        column = "status" if kind_table == "sessions" else "kind"
        for series_id, start in _rows(connection, f"""
                SELECT series_id, original_start FROM {kind_table}
                WHERE {column} IN ('cancelled', 'late_cancelled')"""):
            gone.add((series_id, start))
    not_cancelled = [f"{s} @ {t.isoformat()} was acknowledged as cancelled but is not"
                     for s, t in cancelled if (s, t.astimezone(timezone.utc)) not in gone]
    return lost, not_cancelled


def _meetings(connection, meetings: dict[str, dict], now: datetime, settle: bool) -> dict[str, list[str]]:
    held = _rows(connection, """
        SELECT id, status, meeting_state, meeting_id, meeting_marker, "end" FROM sessions""")
    by_meeting = Counter(m for _, _, state, m, _, _ in held if m and state == "created")
    duplicates = [f"meeting {m} held by {n} sessions" for m, n in by_meeting.items() if n > 1]
    markers = Counter((m.get("agenda") or "") for m in meetings.values()
                      if (m.get("agenda") or "").startswith(AGENDA_PREFIX))
    duplicates += [f"{n} meetings carry {agenda}" for agenda, n in markers.items() if n > 1]
    holders = {m: (sid, status) for sid, status, state, m, _, _ in held if m and state == "created"}
    # a create in flight is held by its marker until it is recorded
    in_flight = {AGENDA_PREFIX + marker for _, status, state, _, marker, _ in held
                 if state == "creating" and marker}
    orphaned = [f"meeting {mid} ({m.get('agenda')}) is held by no session"
                for mid, m in meetings.items()
                if mid not in holders and (m.get("agenda") or "") not in in_flight]
    dangling = [f"session {sid} ({status}) holds meeting {m}, which the provider does not have"
                for m, (sid, status) in holders.items()
                if m not in meetings and status in LIVE_MEETING_STATUSES]
    unsettled, out_of_step = [], []
    if settle:
        times = {sid: (start, end) for sid, start, end in _rows(connection, """
            SELECT id, start, "end" FROM sessions WHERE meeting_state = 'created'""")}
        for mid, (sid, status) in holders.items():
            meeting = meetings.get(mid)
            if meeting is None or status not in LIVE_MEETING_STATUSES or times[sid][1] <= now:
                continue
            start, end = times[sid]
            when = datetime.fromisoformat(str(meeting.get("start_time")).replace("Z", "+00:00"))
            if when != start or int(meeting.get("duration", -1)) != int((end - start).total_seconds() // 60):
                out_of_step.append(f"meeting {mid} at {meeting.get('start_time')} for "
                                   f"{meeting.get('duration')} min; session {sid} at {start.isoformat()}")
        unsettled = [f"session {sid} ({status}) has meeting state {state}"
                     for sid, status, state, _, _, end in held
                     if (status in LIVE_MEETING_STATUSES and end > now and state != "created")
                     or (status in CANCELLED_STATUSES and state in ("creating", "created"))]
    result = {"unique_meetings": duplicates, "no_orphaned_meetings": orphaned,
              "no_dangling_meetings": dangling, "meetings_settled": unsettled}
    if settle:
        result["meetings_in_step"] = out_of_step
    return result


def check(engine: sa.Engine, *, now: datetime | None = None, weeks: int = 12,
          booked: list[str] | None = None, cancelled: list[tuple[str, datetime]] | None = None,
          meetings: dict[str, dict] | None = None, settle_meetings: bool = False) -> Verdict:
    """Check every invariant on the database behind `engine`.

    `weeks`: how far ahead virtual occurrences are expanded for double bookings.
    `booked` / `cancelled`: series ids and (series_id, original_start) the API acknowledged.
    `meetings`: the provider's live meetings by id (with `agenda`); `settle_meetings`
    also requires every upcoming live session to have its meeting (after recovery).
    """
    now = now or datetime.now(timezone.utc)
    verdict = Verdict()
    with engine.connect() as connection, DbSession(bind=connection) as db:
        verdict.add("sessions_unique", _sessions_unique(connection))
        verdict.add("no_double_booking", _materialized_overlaps(connection)
                    + _virtual_overlaps(db, now - timedelta(days=2), now + timedelta(weeks=weeks)))
        verdict.add("intent_consistent", _intent(db, connection))
        lost, not_cancelled = _lost(connection, booked or [], cancelled or [])
        verdict.add("no_lost_bookings", lost)
        verdict.add("no_lost_cancels", not_cancelled)
        if meetings is not None:
            for name, violations in _meetings(connection, meetings, now, settle_meetings).items():
                verdict.add(name, violations)
        for table in ("series", "sessions", "exceptions"):
            verdict.figures[table] = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
        if meetings is not None:
            verdict.figures["meetings_on_provider"] = len(meetings)
    return verdict
