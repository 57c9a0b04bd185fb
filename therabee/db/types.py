"""The one column type for instants: aware UTC in, aware UTC out, on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa


class UTCDateTime(sa.TypeDecorator):
    """`timestamptz` on PostgreSQL, UTC text on SQLite; Python always sees aware UTC.

    A naive datetime is refused when bound (we never guess its zone): on SQLite it would be
    stored as whatever wall-clock time it carries. SQLite hands back naive text, which this
    type knows to be UTC; PostgreSQL hands back the session's zone, converted to UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given for an instant: pass an aware datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
