"""The horizon job: materialize the occurrences that come within the horizon.

Only *due* series are touched: `series.next_due_at` (indexed) is the original start of
the next occurrence not yet materialized. A tick claims due series in batches with
`FOR UPDATE SKIP LOCKED`, so any number of workers can run it at once; inserts are
idempotent, and the cursor moves on in the same transaction, so nothing is done twice
and nothing is skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from therabee.db.engine import is_postgres, unit_of_work
from therabee.db.models import OccurrenceException, Series, Session
from therabee.scheduling.expand import HELD_STATUSES, advance_cursor, next_start_at_or_after
from therabee.services import clock
from therabee.services.errors import ServiceError
from therabee.services.materialize import materialize, materialize_many
from therabee.services.calendar_rows import load, load_around, series_spec
from therabee.settings import get_settings

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    series_claimed: int = 0
    sessions_created: int = 0
    conflicts: int = 0


def _claim(db, horizon_end: datetime, batch_size: int) -> list[Series]:
    query = (select(Series).where(Series.next_due_at.is_not(None), Series.next_due_at < horizon_end)
             .order_by(Series.next_due_at).limit(batch_size))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    return list(db.exec(query))


def _materialize_due(db, rows: list[Series], now: datetime, horizon_end: datetime,
                     report: TickReport) -> None:
    if not rows:
        return
    by_id = {row.id: row for row in rows}
    from_ = max(min(r.next_due_at for r in rows), now - timedelta(hours=24))
    due = [(row, occurrence) for row, occurrence in load(db, from_, horizon_end, rows=rows).pairs(from_, horizon_end)
           if not occurrence.materialized and occurrence.status in HELD_STATUSES
           and occurrence.original_start >= row.next_due_at and occurrence.end > now]
    created, conflicts = materialize_many(db, due)
    report.sessions_created += created
    report.conflicts += conflicts
    if conflicts:  # overlapping a session that exists: left virtual, said so
        log.warning("%d due occurrence(s) overlap other sessions; not materialized", conflicts)
    for row in by_id.values():
        spec = series_spec(row)
        cursor = advance_cursor(spec, horizon_end)
        if cursor is not None:
            row.cursor_start, row.cursor_index = cursor.start, cursor.index
        row.next_due_at = next_start_at_or_after(replace(spec, cursor=cursor), horizon_end)


def _moved_into_horizon(db, now: datetime, horizon_end: datetime, report: TickReport) -> None:
    """Occurrences moved into the horizon from far away have no due cursor: find them."""
    missing = (select(OccurrenceException, Series)
               .join(Series, Series.id == OccurrenceException.series_id)
               .outerjoin(Session, sa.and_(Session.series_id == OccurrenceException.series_id,
                                           Session.original_start == OccurrenceException.original_start))
               .where(OccurrenceException.kind == "moved", OccurrenceException.new_start >= now,
                      OccurrenceException.new_start < horizon_end, Session.id.is_(None)))
    for exception, row in db.exec(missing):
        start = exception.new_start
        for occurrence in load_around(db, row, start).calendar.occurrences(start, start + timedelta(seconds=1)):
            if occurrence.original_start == exception.original_start and not occurrence.materialized:
                try:
                    report.sessions_created += materialize(db, row, occurrence)[1]
                except ServiceError:
                    report.conflicts += 1


def tick(batch_size: int = 500, max_batches: int = 1000) -> TickReport:
    """One run of the horizon job (what beat schedules every minute)."""
    now = clock.now()
    horizon_end = now + timedelta(hours=get_settings().horizon_hours)
    report = TickReport()
    for _ in range(max_batches):
        with unit_of_work() as db:
            rows = _claim(db, horizon_end, batch_size)
            _materialize_due(db, rows, now, horizon_end, report)
            report.series_claimed += len(rows)
        if len(rows) < batch_size:
            break
    with unit_of_work() as db:
        _moved_into_horizon(db, now, horizon_end, report)
    return report
