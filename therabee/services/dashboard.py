"""The practice dashboard: what Therabee wrote, against what an eager scheduler would have.

Reads only: a few aggregate queries, then the eager estimate from the series' rules with
the pure core. The eager design (WORKLOAD.md) writes, for every occurrence in the next
26 weeks, one session, one slot and one meeting row and calls the video provider's
create once; a weekly top-up keeps 26 weeks written ahead; every change rewrites the
affected rows and updates or deletes each affected meeting.

Each figure, per scope (a therapist's practice, the whole installation):

- series: series rows stored (the intents; a split adds one).
- sessions: session rows materialized.
- exceptions, pauses, time_off: rows of those tables (time off: the therapists' own).
- therabee_rows: series + exceptions + pauses + sessions + time off rows. Row counts,
  not PostgreSQL's write counters: later updates of a row are not counted.
- eager_occurrences: occurrences an eager scheduler would have written: each series'
  rule (without its later end) over `[start, max(start, end time) + 26 weeks)`, the end
  time being now, or the series' end if earlier; capped at its session limit. A split's
  new series rewrites its parent's tail in place: only its occurrences beyond that
  tail count as new.
- eager_affected: occurrences eager rewrites on a change, each counted once: every
  exception (cancel, move), every cancelled or moved session, and every occurrence
  eager had written that a pause, a time off, an end or a split took away.
- eager_rows: 3 × (eager_occurrences + eager_affected).
- rows_avoided: eager_rows − therabee_rows.
- video_created / video_updated / video_deleted / video_calls: meeting API calls made.
  There is no call counter, so they are derived from the sessions: created = sessions
  that have a meeting id or whose meeting was deleted; deleted = meetings deleted;
  updated = sessions with a meeting whose start was moved (one update each).
- eager_video_calls: one create per eager occurrence + one update or delete per
  affected occurrence.
- video_calls_avoided: eager_video_calls − video_calls.
- chart: per week (Monday, UTC; from a zero week before the first), cumulative rows
  written by Therabee (by the rows' creation) and by eager (an occurrence is written in the week of
  max(series created, its start − 26 weeks); a rewrite in the week of its change).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from therabee.db.engine import is_postgres, read_only
from therabee.db.models import OccurrenceException, Pause, Series, Session
from therabee.db.models_rules import TimeOff
from therabee.scheduling.expand import CANCELLED_STATUSES, rule_starts
from therabee.scheduling.timezones import to_local, zone
from therabee.services import clock
from therabee.services.calendar_rows import series_spec

EAGER_WEEKS = 26
ROWS_PER_OCCURRENCE = 3  # session + slot + meeting
_HAD_MEETING = ("created", "deleted")

DEFINITIONS = {
    "series": "Series rows stored: one per booking (a split adds one).",
    "sessions": "Session rows materialized: occurrences that came near or were acted on.",
    "therabee_rows": "Rows Therabee wrote: series + exceptions + pauses + sessions + time off.",
    "eager_rows": "Eager: 3 rows (session, slot, meeting) per occurrence 26 weeks ahead, "
                  "and 3 again per occurrence a change rewrote.",
    "rows_avoided": "Rows an eager scheduler would have written that Therabee did not.",
    "video_calls": "Meetings created, moved and deleted, derived from the sessions "
                   "(there is no call counter).",
    "video_calls_avoided": "Eager: one create per occurrence written, one update or delete "
                           "per occurrence changed.",
}

Identity = tuple[str, datetime]


def _monday(instant: datetime | date) -> date:
    day = instant.date() if isinstance(instant, datetime) else instant
    return day - timedelta(days=day.weekday())


def _utc_day(db, column):
    """The UTC calendar day of an instant column, on PostgreSQL and SQLite."""
    if is_postgres(db):
        return sa.func.date(sa.func.timezone("UTC", column))
    return sa.func.date(column)


class _Scope:
    """The figures of one scope, filled item by item."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.therabee_weeks: Counter[date] = Counter()
        self.eager_weeks: Counter[date] = Counter()

    def result(self, now: datetime) -> dict:
        c = self.counts
        therabee_rows = c["series"] + c["exceptions"] + c["pauses"] + c["sessions"] + c["time_off"]
        eager_rows = ROWS_PER_OCCURRENCE * (c["eager_occurrences"] + c["eager_affected"])
        video_calls = c["video_created"] + c["video_updated"] + c["video_deleted"]
        eager_calls = c["eager_occurrences"] + c["eager_affected"]
        figures = {name: c[name] for name in (
            "series", "sessions", "exceptions", "pauses", "time_off", "eager_occurrences",
            "eager_affected", "video_created", "video_updated", "video_deleted")}
        figures.update(therabee_rows=therabee_rows, eager_rows=eager_rows,
                       rows_avoided=eager_rows - therabee_rows, video_calls=video_calls,
                       eager_video_calls=eager_calls, video_calls_avoided=eager_calls - video_calls)
        figures["chart"] = self._chart(now)
        return figures

    def _chart(self, now: datetime) -> list[dict]:
        weeks = set(self.therabee_weeks) | set(self.eager_weeks)
        if not weeks:
            return []
        # from a zero week before the first row, so even one week draws a line
        week, last = min(weeks) - timedelta(weeks=1), _monday(now)
        points, therabee, eager = [], 0, 0
        while week <= last:
            therabee += self.therabee_weeks[week]
            eager += self.eager_weeks[week]
            points.append({"week": week.isoformat(), "therabee": therabee, "eager": eager})
            week += timedelta(weeks=1)
        return points


class _Scopes:
    """Adds each item to the installation and, when it is the therapist's, to the practice."""

    def __init__(self, therapist_id: str | None) -> None:
        self.therapist_id = therapist_id
        self.installation = _Scope()
        self.practice = _Scope() if therapist_id else None

    def of(self, therapist_id: str) -> list[_Scope]:
        if self.practice is not None and therapist_id == self.therapist_id:
            return [self.installation, self.practice]
        return [self.installation]

    def count(self, therapist_id: str, name: str, amount: int = 1) -> None:
        for scope in self.of(therapist_id):
            scope.counts[name] += amount

    def written(self, therapist_id: str, week: date, rows: int, eager: bool) -> None:
        for scope in self.of(therapist_id):
            (scope.eager_weeks if eager else scope.therabee_weeks)[week] += rows


def _eager_starts(row: Series, now: datetime) -> list[datetime]:
    """Original starts an eager scheduler writes for this series (its later end aside)."""
    spec = replace(series_spec(row), ends_before=None, cursor=None)
    ends_before = row.ends_before
    until = max(spec.start, min(now, ends_before) if ends_before else now) + timedelta(weeks=EAGER_WEEKS)
    starts = rule_starts(spec, spec.start, until)
    return starts[:row.sessions_limit] if row.sessions_limit is not None else starts


def _load(db) -> dict:
    session_figures = select(
        Session.therapist_id, sa.func.count(),
        sa.func.sum(sa.case((Session.meeting_state.in_(_HAD_MEETING), 1), else_=0)),
        sa.func.sum(sa.case((Session.meeting_state == "deleted", 1), else_=0)),
        sa.func.sum(sa.case((sa.and_(Session.meeting_state.in_(_HAD_MEETING),
                                     Session.start != Session.original_start), 1), else_=0)),
    ).group_by(Session.therapist_id)
    day = _utc_day(db, Session.created_at)
    return {
        "series": list(db.exec(select(Series))),
        "exceptions": list(db.exec(select(OccurrenceException.series_id, OccurrenceException.original_start,
                                          OccurrenceException.created_at))),
        "pauses": list(db.exec(select(Pause.series_id, Pause.from_date, Pause.until_date,
                                      Pause.created_at))),
        "time_off": list(db.exec(select(TimeOff.therapist_id, TimeOff.start, TimeOff.end,
                                        TimeOff.created_at))),
        "sessions": list(db.exec(session_figures)),
        "changed_sessions": list(db.exec(select(Session.series_id, Session.original_start,
                                                Session.updated_at).where(
            sa.or_(Session.status.in_(CANCELLED_STATUSES), Session.start != Session.original_start)))),
        "sessions_by_day": list(db.exec(select(Session.therapist_id, day, sa.func.count())
                                        .group_by(Session.therapist_id, day))),
    }


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _affected(data: dict, written: dict[str, list[datetime]], now: datetime) -> dict[Identity, datetime]:
    """Occurrences eager would rewrite, each with the time of its first change."""
    series = {row.id: row for row in data["series"]}
    changed: dict[Identity, datetime] = {}

    def touch(identity: Identity, when: datetime | None) -> None:
        when = min(when or now, now)
        changed[identity] = min(changed.get(identity, when), when)

    children = {row.parent_id: row for row in series.values() if row.parent_id}
    for row in series.values():
        ends_before = row.ends_before
        if ends_before is not None:
            child = children.get(row.id)
            when = child.created_at if child else min(now, ends_before)
            for start in written[row.id]:
                if start >= ends_before:
                    touch((row.id, start), when)
    for series_id, first_day, last_day, created_at in data["pauses"]:
        tz = zone(series[series_id].timezone)
        for start in written[series_id]:
            if first_day <= to_local(start, tz).date() <= last_day:
                touch((series_id, start), created_at)
    by_therapist = defaultdict(list)
    for row in series.values():
        by_therapist[row.therapist_id].append(row)
    for therapist_id, start, end, created_at in data["time_off"]:
        for row in by_therapist[therapist_id]:
            duration = timedelta(minutes=row.duration_minutes)
            for original in written[row.id]:
                if original < end and start < original + duration:
                    touch((row.id, original), created_at)
    for series_id, original_start, when in data["exceptions"] + data["changed_sessions"]:
        touch((series_id, original_start), when)
    return changed


def _tally(data: dict, scopes: _Scopes, now: datetime) -> None:
    series = {row.id: row for row in data["series"]}
    written = {row.id: _eager_starts(row, now) for row in series.values()}
    affected = _affected(data, written, now)
    tail = {row.id: sum(1 for start in written[row.id] if start >= row.ends_before)
            for row in series.values() if row.ends_before is not None}
    for row in series.values():
        therapist, created = row.therapist_id, row.created_at
        scopes.count(therapist, "series")
        scopes.written(therapist, _monday(created), 1, eager=False)
        # a split's new series rewrites its parent's tail in place (counted as affected)
        new = written[row.id][tail.get(row.parent_id, 0):]
        scopes.count(therapist, "eager_occurrences", len(new))
        for start in new:
            when = min(now, max(created, start - timedelta(weeks=EAGER_WEEKS)))
            scopes.written(therapist, _monday(when), ROWS_PER_OCCURRENCE, eager=True)
    for (series_id, _), when in affected.items():
        therapist = series[series_id].therapist_id
        scopes.count(therapist, "eager_affected")
        scopes.written(therapist, _monday(when), ROWS_PER_OCCURRENCE, eager=True)
    for name in ("exceptions", "pauses"):
        for series_id, *_, created_at in data[name]:
            scopes.count(series[series_id].therapist_id, name)
            scopes.written(series[series_id].therapist_id, _monday(created_at), 1, eager=False)
    for therapist_id, *_, created_at in data["time_off"]:
        scopes.count(therapist_id, "time_off")
        scopes.written(therapist_id, _monday(created_at), 1, eager=False)
    for therapist_id, total, created, deleted, moved in data["sessions"]:
        scopes.count(therapist_id, "sessions", total)
        scopes.count(therapist_id, "video_created", int(created or 0))
        scopes.count(therapist_id, "video_deleted", int(deleted or 0))
        scopes.count(therapist_id, "video_updated", int(moved or 0))
    for therapist_id, day, total in data["sessions_by_day"]:
        scopes.written(therapist_id, _monday(_as_date(day)), total, eager=False)


def figures(therapist_id: str | None) -> dict:
    """The dashboard's figures (see the module docstring for each one's meaning).

    Returns {"generated_at", "eager_weeks", "definitions", "installation": {...},
    "practice": {...} or None}; "practice" is the therapist's own when one is given.
    Writes nothing.
    """
    now = clock.now()
    with read_only() as db:
        data = _load(db)
    scopes = _Scopes(therapist_id)
    _tally(data, scopes, now)
    return {"generated_at": now, "eager_weeks": EAGER_WEEKS, "definitions": DEFINITIONS,
            "installation": scopes.installation.result(now),
            "practice": scopes.practice.result(now) if scopes.practice else None}
