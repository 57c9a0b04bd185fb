"""The invariants every reliability scenario ends on, read straight from the database.

`check(engine, ...)` returns a `Verdict`: one entry per invariant with its violations
(empty = holds). A scenario fails when any invariant has a violation. The checker
reads PostgreSQL with plain SQL and expands the calendar with the reference model
(reliability/reference_calendar.py), not with the product's code, so a wrong expansion
in the product cannot hide its own faults; it never writes.

Invariants (DESIGN.md rules 3, 5, 7 and the meeting life cycle):
- sessions_unique: one session per occurrence identity (series_id, original_start);
- no_double_booking: no two active occurrences (virtual or materialized, moved ones
  wherever they went) of one therapist overlap, over the checked window;
- intent_consistent: every session and exception belongs to an occurrence of its
  series' rule, with the series' parties; nothing active lies past a series' end or
  inside one of its pauses, and no live session is on time off or past its series'
  sessions_limit;
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

from reliability import reference_calendar as ref
from therabee.db.types import UTCDateTime

ACTIVE_STATUSES = ("completed", "in_progress", "no_show", "scheduled")
CANCELLED_STATUSES = tuple(sorted(ref.NOT_HAPPENING))
LIVE_MEETING_STATUSES = ("scheduled", "in_progress")
HIDDEN = "hidden"  # a session a pause or time away hid after it was made
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
_INSTANTS = {name: UTCDateTime() for name in ("original_start", "start", "end", "ends_before", "new_start")}


def _rows(connection, sql: str, **params) -> list:
    return list(connection.execute(sa.text(sql).columns(**_INSTANTS), params))


def _sessions_unique(connection) -> list[str]:
    return [f"{series_id} @ {start}: {n} sessions" for series_id, start, n in _rows(connection, """
        SELECT series_id, original_start, count(*) FROM sessions
        GROUP BY series_id, original_start HAVING count(*) > 1""")]


def _materialized_overlaps(connection) -> list[str]:
    return [f"therapist {t}: sessions {a} and {b} overlap" for t, a, b in _rows(connection, """
        SELECT a.therapist_id, a.id, b.id FROM sessions a JOIN sessions b
          ON a.therapist_id = b.therapist_id AND a.id < b.id
         AND a.start < b."end" AND b.start < a."end"
        WHERE a.status IN :active AND b.status IN :active""".replace(":active", repr(ACTIVE_STATUSES)))]


def reference_calendar(connection) -> ref.Calendar:
    """The database as the reference calendar: every series with its exceptions, sessions
    and pauses, and each therapist's time off and public holidays. A session is the last
    word on its occurrence: its status and its time override an exception's."""
    series = {}
    for sid, therapist_id, client_id, start, zone_name, minutes, rrule, limit, ends_before in _rows(connection, """
            SELECT id, therapist_id, client_id, start, timezone, duration_minutes, rrule, sessions_limit,
                   ends_before FROM series"""):
        series[sid] = ref.Series(sid, therapist_id, client_id, start, zone_name, timedelta(minutes=minutes), rrule,
                                 limit, ends_before)
    for sid, original, kind, new_start, new_minutes in _rows(connection, """
            SELECT series_id, original_start, kind, new_start, new_duration_minutes FROM exceptions"""):
        if sid not in series:
            continue
        if new_start is not None:  # moved, or cancelled after a move: where it is or was
            series[sid].moved[original] = (new_start, timedelta(minutes=new_minutes) if new_minutes
                                           else series[sid].duration)
        if kind != "moved":
            series[sid].status[original] = kind
    for sid, original, start, end, status in _rows(connection, """
            SELECT series_id, original_start, start, "end", status FROM sessions"""):
        row = series.get(sid)
        if row is None:
            continue
        row.status.pop(original, None)
        row.moved.pop(original, None)
        if status not in ("scheduled", HIDDEN):  # hidden: scheduled unless a pause or time off hides it
            row.status[original] = status
        if (start, end) != (original, original + row.duration):
            row.moved[original] = (start, end - start)
    for sid, first, last in _rows(connection, "SELECT series_id, from_date, until_date FROM pauses"):
        if sid in series:
            series[sid].pauses.append((first, last))
    away: dict[str, list] = defaultdict(list)
    for therapist_id, start, end in _rows(connection, 'SELECT therapist_id, start, "end" FROM time_off'):
        away[therapist_id].append((start, end))
    starts = [s.start for s in series.values()] or [datetime.now(timezone.utc)]
    for therapist_id, country, zone_name in _rows(connection, """
            SELECT r.therapist_id, r.holidays_country, a.timezone FROM practice_rules r
              LEFT JOIN availability a ON a.therapist_id = r.therapist_id
            WHERE r.holidays_country IS NOT NULL"""):
        away[therapist_id] += ref.holiday_intervals(country, zone_name or "UTC", min(starts) - timedelta(days=400),
                                                    max(starts) + timedelta(days=800))
    return ref.Calendar(list(series.values()), dict(away))


def _virtual_overlaps(calendar: ref.Calendar, from_: datetime, to: datetime) -> list[str]:
    """Any overlap of two active occurrences of one therapist in the window is a double
    booking (buffers are practice rules, not this one)."""
    found = []
    for therapist_id in sorted({s.therapist_id for s in calendar.series}):
        occurrences = sorted((o for o in calendar.occurrences(from_, to, therapist_id) if o.active),
                             key=lambda o: (o.start, o.end))
        latest = None
        for occurrence in occurrences:
            if latest is not None and occurrence.start < latest.end:
                found.append(f"therapist {therapist_id}: {_name(latest)} and {_name(occurrence)} overlap")
            if latest is None or occurrence.end > latest.end:
                latest = occurrence
    return found


def _name(occurrence: ref.Occurrence) -> str:
    return f"{occurrence.series_id}:{occurrence.original_start:%Y%m%dT%H%M%SZ}"


def _is_rule_start(series: ref.Series, instant: datetime) -> bool:
    return instant in ref.rule_starts(series, instant + timedelta(seconds=1), ignore_end=True)


def _why_not_held(calendar: ref.Calendar, series: ref.Series, original: datetime, start: datetime,
                  end: datetime, status: str) -> str | None:
    """Why an active session should not be active (None: it should)."""
    if series.ends_before is not None and original >= series.ends_before:
        return "active after its series ended"
    day = ref.to_local(original, series.zone).date()
    if any(first <= day <= last for first, last in series.pauses):
        return "active inside a pause"
    if status not in LIVE_MEETING_STATUSES or calendar.occurrence(series.id, original) is not None:
        return None
    if any(a < end and start < b for a, b in calendar.away.get(series.therapist_id, [])):
        return "live on the therapist's time off"
    return "live past its series' sessions_limit"


def _intent(calendar: ref.Calendar, connection) -> list[str]:
    series = {s.id: s for s in calendar.series}
    parties = {sid: (t, c) for sid, t, c in _rows(connection, "SELECT id, therapist_id, client_id FROM series")}
    wrong = []
    for sid, series_id, therapist_id, client_id, original, start, end, status in _rows(connection, """
            SELECT id, series_id, therapist_id, client_id, original_start, start, "end", status
            FROM sessions"""):
        row = series.get(series_id)
        if row is None:
            wrong.append(f"session {sid}: no series {series_id}")
            continue
        if (therapist_id, client_id) != parties[series_id]:
            wrong.append(f"session {sid}: parties differ from its series")
        if not _is_rule_start(row, original):
            wrong.append(f"session {sid}: {original.isoformat()} is not an occurrence of its rule")
        if end <= start:
            wrong.append(f"session {sid}: ends before it starts")
        if status in ACTIVE_STATUSES:
            why = _why_not_held(calendar, row, original, start, end, status)
            if why:
                wrong.append(f"session {sid}: {why}")
    for eid, series_id, original, kind, new_start in _rows(connection, """
            SELECT id, series_id, original_start, kind, new_start FROM exceptions"""):
        row = series.get(series_id)
        if row is None or not _is_rule_start(row, original):
            wrong.append(f"exception {eid}: not an occurrence of series {series_id}")
        elif kind == "moved" and new_start is None:
            wrong.append(f"exception {eid}: moved without a new start")
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
                     or (status in CANCELLED_STATUSES + (HIDDEN,) and state in ("creating", "created"))]
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
    with engine.connect() as connection:
        calendar = reference_calendar(connection)
        verdict.add("sessions_unique", _sessions_unique(connection))
        verdict.add("no_double_booking", _materialized_overlaps(connection)
                    + _virtual_overlaps(calendar, now - timedelta(days=2), now + timedelta(weeks=weeks)))
        verdict.add("intent_consistent", _intent(calendar, connection))
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
