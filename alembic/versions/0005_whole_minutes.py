"""whole minutes: round every instant that identifies or places an occurrence down to the minute

Since issue 12 fault 5, starts, moves, the `from` of an end or a split and time off must be
whole minutes (`services.errors.whole_minute`), and an occurrence id names its original start
to the second without its fraction (`scheduling/ids.py`). Rows written before that with
seconds or fractions could never be cancelled, ended or split. This rounds down, to the
minute: series.start, ends_before, cursor_start, next_due_at; exceptions.original_start,
new_start; sessions.original_start, start, end; time_off.start, end.

Why identities stay consistent: an occurrence's original start is its series' start plus a
whole number of minutes (the rule steps whole days, weeks or months of wall-clock time; zone
offsets and the DST-gap policy shift by whole minutes), and flooring commutes with adding
whole minutes: floor(start + k min) = floor(start) + k min. So the rounded series' rule gives
exactly the rounded original starts of its exceptions and sessions, and of its cursor,
`next_due_at` and `ends_before`, which are original starts too (a split child's
`ends_before` is carried by a wall-clock difference of two starts and keeps the child's
seconds). Within a series two identities differ by whole minutes, so no two rounded ones
coincide; if bad data made them, the unique constraint stops the migration and nothing
changes.

Why no overlap appears: rounding down is monotone, so an interval that ended at or before
another began (half-open) still does after both are rounded, also with whole-minute buffers
(floor(end) + pad = floor(end + pad) <= floor(start)). Two intervals that overlapped by less
than a minute may stop overlapping: an occurrence that time off touched by seconds comes back,
its time having been reserved all along. Durations stay whole minutes. The one thing not
rounded is a rule's UNTIL text: an UNTIL with seconds inside the minute of a later occurrence
would now let that occurrence through (no such rule is known).

PostgreSQL checks the sessions' exclusion constraint row by row during an UPDATE, against the
rows not updated yet: back-to-back sessions [10:00:40, 10:50:40) and [10:50:40, 11:40:40)
would collide if the later one were rounded first. So sessions are rounded one at a time,
earliest start first: each then meets only rounded rows before it and unrounded ones after.

On PostgreSQL instants are `timestamptz` (truncated in UTC, whatever the session's zone); on
SQLite `db.types.UTCDateTime` stores UTC text 'YYYY-MM-DD HH:MM:SS.ffffff', so the minute is
its first 16 characters. Not reversible: downgrade keeps the rounded values.

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROUNDED = {
    "series": ("start", "ends_before", "cursor_start", "next_due_at"),
    "exceptions": ("original_start", "new_start"),
    "time_off": ("start", "end"),
}
SESSION_INSTANTS = ("original_start", "start", "end")


def floor_minute(column: str, dialect: str) -> str:
    """SQL for the instant in `column` rounded down to the minute (NULL stays NULL)."""
    if dialect == "postgresql":
        return f"date_trunc('minute', \"{column}\" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return f"substr(\"{column}\", 1, 16) || '\\:00.000000'"  # `\:` keeps sa.text from taking it for a parameter


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    for table, columns in ROUNDED.items():
        for column in columns:
            floor = floor_minute(column, dialect)
            bind.execute(sa.text(f'UPDATE {table} SET "{column}" = {floor} WHERE "{column}" <> {floor}'))
    off_minute = " OR ".join(f'"{c}" <> {floor_minute(c, dialect)}' for c in SESSION_INSTANTS)
    rounded = ", ".join(f'"{c}" = {floor_minute(c, dialect)}' for c in SESSION_INSTANTS)
    ids = bind.execute(sa.text(f"SELECT id FROM sessions WHERE {off_minute} ORDER BY start, id")).scalars().all()
    for session_id in ids:
        bind.execute(sa.text(f"UPDATE sessions SET {rounded} WHERE id = :id"), {"id": session_id})


def downgrade() -> None:
    """Nothing to undo: the seconds that were dropped are not kept anywhere."""
