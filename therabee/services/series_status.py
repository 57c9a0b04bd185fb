"""A series' status, derived when it is read (never stored): "active" or "ended".

A series *ends on its own* when its occurrences run out: a one-off, a rule with COUNT or
UNTIL, a `sessions_limit` (it ends at its last held occurrence), or an end or a split
(`ends_before`: the occurrences from there on are gone, the earlier ones stay — and stay
changeable, wherever they have been moved). Such a series is "active" while one of its
occurrences that are not cancelled (moved ones at their new time; paused ones and those on
time off count: they come back when the pause or the time off goes) still ends after now,
and "ended" once the last has ended. Any other series is
"active", and is not expanded here.

Cheap on list reads: the next weeks are looked at first, where an active series almost
always has its next occurrence; only the series with none there are followed to their
latest possible start — the rule's last one (`last_start`, counted from the cursor), a
moved occurrence's or a session's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.models import OccurrenceException, Series, Session
from therabee.scheduling.expand import SeriesSpec, last_start
from therabee.services.calendar_rows import load, series_spec
from therabee.settings import get_settings

NEAR = timedelta(weeks=5)  # holds the next occurrence of a weekly or monthly rule
# Past every bound: a series that ends on its own stops expanding at its end (its rule's,
# its `ends_before` or its `sessions_limit`), so asking that far expands nothing more.
BEYOND = datetime(9999, 1, 1, tzinfo=timezone.utc)
_TICK = timedelta(microseconds=1)


def _open_ended(spec: SeriesSpec) -> bool:
    rule = spec.rule
    return rule is not None and rule.count is None and rule.until is None and spec.ends_before is None


def _ends_on_its_own(row: Series) -> bool:
    """One-off, COUNT, UNTIL, `sessions_limit`, ended or split: only such a series can end."""
    return row.sessions_limit is not None or not _open_ended(series_spec(row))


def _remaining(db: DbSession, rows: Sequence[Series], now: datetime, from_: datetime,
                  to: datetime, until: datetime) -> set[str]:
    """Ids of `rows` with an occurrence that is not cancelled (hidden ones count), starts
    in `[from_, until)` and ends after `now`. Their changes are loaded for `[from_, to)`: `until` may pass `to` only
    for rows with no start from `to` on, or ended by a `sessions_limit` (whose changes are
    all loaded whatever the window)."""
    return {o.series_id for o in load(db, from_, to, rows=rows).calendar.remaining(from_, until)
            if o.end > now}


def _latest_starts(db: DbSession, rows: Sequence[Series]) -> dict[str, datetime | None]:
    """Series id → the latest start one of its occurrences may have (the rule's last
    original start, a moved occurrence's or a session's); None when only its
    `sessions_limit` ends it. Absent: it has no occurrence at all."""
    ids = [r.id for r in rows]
    moved = dict(db.exec(select(OccurrenceException.series_id, sa.func.max(OccurrenceException.new_start))
                         .where(OccurrenceException.series_id.in_(ids), OccurrenceException.kind == "moved")
                         .group_by(OccurrenceException.series_id)).all())
    held = dict(db.exec(select(Session.series_id, sa.func.max(Session.start))
                        .where(Session.series_id.in_(ids)).group_by(Session.series_id)).all())
    latest: dict[str, datetime | None] = {}
    for row in rows:
        spec = series_spec(row)
        if _open_ended(spec):
            latest[row.id] = None
            continue
        starts = [t for t in (last_start(spec), moved.get(row.id), held.get(row.id)) if t is not None]
        if starts:
            latest[row.id] = max(starts)
    return latest


def _still_remaining(db: DbSession, rows: Sequence[Series], now: datetime) -> set[str]:
    """Ids of `rows` (series that end on their own) with an occurrence that is not
    cancelled and ends after `now`."""
    from_ = now - timedelta(minutes=get_settings().max_duration_minutes)  # what ends after now starts after this
    near = now + NEAR
    found = _remaining(db, rows, now, from_, near, near)
    rest = [r for r in rows if r.id not in found]
    latest = _latest_starts(db, rest) if rest else {}
    later = [r for r in rest if r.id in latest and (latest[r.id] is None or latest[r.id] >= near)]
    if later:
        to = max([near] + [t for t in (latest[r.id] for r in later) if t is not None]) + _TICK
        found |= _remaining(db, later, now, near, to, BEYOND)
    return found


def statuses(db: DbSession, rows: Sequence[Series], now: datetime) -> dict[str, str]:
    """Series id → its status at `now` (aware) for every row: "ended" when it ends on its
    own and none of its occurrences that are not cancelled ends after `now`, else "active".
    Reads only; series that do not end on their own cost nothing."""
    finite = [r for r in rows if _ends_on_its_own(r)]
    alive = _still_remaining(db, finite, now) if finite else set()
    ended = {r.id for r in finite} - alive
    return {r.id: "ended" if r.id in ended else "active" for r in rows}
