"""A series' status, derived when it is read (never stored): "active" or "ended".

Ending or splitting a series sets its `ends_before`: the occurrences from there on are gone,
the earlier ones stay — and stay changeable, wherever they have been moved. Such a series is
"active" while one of them still takes place after now, and "ended" once the last has ended.
A series without `ends_before` is "active".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session as DbSession
from sqlmodel import select

from therabee.db.models import OccurrenceException, Series, Session
from therabee.scheduling.expand import ACTIVE_STATUSES
from therabee.services.calendar_rows import load
from therabee.settings import get_settings


def series_status(row: Series, now: datetime, last_end: datetime | None) -> str:
    """"ended" for a series with `ends_before` whose occurrences that still take place (moved
    ones at their new time; not cancelled, paused or on time off) all end by `now` (aware);
    `last_end` is the end of its last such occurrence, None when it has none. Else "active"."""
    if row.ends_before is None:
        return "active"
    return "active" if last_end is not None and last_end > now else "ended"


def _last_ends(db: DbSession, rows: Sequence[Series], now: datetime) -> dict[str, datetime]:
    """Series id → the latest end after `now` of an occurrence that takes place, for the rows
    with `ends_before` (absent: none is left)."""
    ids = [r.id for r in rows]
    moved = db.exec(select(sa.func.max(OccurrenceException.new_start)).where(
        OccurrenceException.series_id.in_(ids), OccurrenceException.kind == "moved")).one()
    held = db.exec(select(sa.func.max(Session.start)).where(Session.series_id.in_(ids))).one()
    # The rule gives nothing from `ends_before` on, but a move may land anywhere.
    to = max([r.ends_before for r in rows] + [t for t in (moved, held) if t is not None]) + timedelta(seconds=1)
    from_ = now - timedelta(minutes=get_settings().max_duration_minutes)  # anything ending after now starts after this
    last: dict[str, datetime] = {}
    if from_ < to:
        for row, occurrence in load(db, from_, to, rows=rows).pairs(from_, to):
            if occurrence.status in ACTIVE_STATUSES and occurrence.end > now:
                last[row.id] = max(last.get(row.id, occurrence.end), occurrence.end)
    return last


def statuses(db: DbSession, rows: Sequence[Series], now: datetime) -> dict[str, str]:
    """Series id → its status at `now` (aware), for every row; reads only, and only for rows
    with `ends_before`."""
    ending = [r for r in rows if r.ends_before is not None]
    last = _last_ends(db, ending, now) if ending else {}
    return {r.id: series_status(r, now, last.get(r.id)) for r in rows}
