"""The tables. Instants are stored in UTC; zones are IANA names.

A series is the intent (one row per booking); exceptions and pauses are changes to
it (one row each); a session exists only for an occurrence that is near or acted on.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from therabee.db.types import UTCDateTime
from therabee.scheduling.expand import RELEASED_STATUSES
from therabee.services import clock


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return clock.now()


def _instant(nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    email: str = Field(sa_column=sa.Column(sa.String(254), nullable=False, unique=True))
    name: str = Field(max_length=120)
    role: str = Field(max_length=16)
    timezone: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_instant())


class FeedToken(SQLModel, table=True):
    """The private calendar link of a user; rotating it replaces the row."""

    __tablename__ = "feed_tokens"

    user_id: str = Field(foreign_key="users.id", primary_key=True, max_length=36)
    token: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_instant())


class Availability(SQLModel, table=True):
    """A therapist's weekly hours, one row: `weekly` is a list of {weekday, start, end}."""

    __tablename__ = "availability"

    therapist_id: str = Field(foreign_key="users.id", primary_key=True, max_length=36)
    timezone: str = Field(max_length=64)
    weekly: list = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_instant())


class Series(SQLModel, table=True):
    """The booking intent. `cursor_*` and `next_due_at` let expansion and the horizon
    job start from a recent occurrence instead of the first one."""

    __tablename__ = "series"
    __table_args__ = (sa.Index("ix_series_therapist_status", "therapist_id", "status"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    therapist_id: str = Field(foreign_key="users.id", max_length=36)
    client_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    start: datetime = Field(sa_column=_instant())
    timezone: str = Field(max_length=64)
    duration_minutes: int
    rrule: str | None = Field(default=None, max_length=500)
    sessions_limit: int | None = None
    # Not read: a series' status is derived (services/series_status.py). Rows ended before that
    # say "ended" here; the column and its index can go in a later migration.
    status: str = Field(default="active", max_length=16)
    parent_id: str | None = Field(default=None, foreign_key="series.id", max_length=36)
    ends_before: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    cursor_start: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    cursor_index: int = 0
    next_due_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True, index=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_instant())


class OccurrenceException(SQLModel, table=True):
    """A change to one occurrence of a series: cancelled, late cancelled or moved."""

    __tablename__ = "exceptions"
    __table_args__ = (sa.UniqueConstraint("series_id", "original_start", name="uq_exception_identity"),
                      sa.Index("ix_exceptions_new_start", "new_start"))

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    series_id: str = Field(foreign_key="series.id", max_length=36)
    original_start: datetime = Field(sa_column=_instant())
    kind: str = Field(max_length=16)
    new_start: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    new_duration_minutes: int | None = None
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_instant())


class Pause(SQLModel, table=True):
    __tablename__ = "pauses"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    series_id: str = Field(foreign_key="series.id", index=True, max_length=36)
    from_date: date
    until_date: date
    created_at: datetime = Field(default_factory=utcnow, sa_column=_instant())


NEEDS_MEETING = ("scheduled", "in_progress")  # the statuses of a session that has a meeting
MEETING_LIVE = ("creating", "created")
_RELEASED = tuple(sorted(RELEASED_STATUSES))  # cancelled, hidden, late_cancelled: no meeting


def _sql_list(values) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


# A session whose meeting is not what its row says it should be: wanted and missing (or its
# create unfinished), live though the session is cancelled or hidden, or sent with other
# times than the session's. The periodic sweep reads exactly these rows through the partial
# index of the same predicate. Written as SQL with its constants inline, so that PostgreSQL
# (generic plans of prepared statements too) and SQLite can match a query to the index.
MEETING_OUT_OF_STEP = sa.text(
    f"(status IN {_sql_list(NEEDS_MEETING)} AND meeting_state IN ('none', 'creating', 'deleted')"
    f" OR status IN {_sql_list(_RELEASED)} AND meeting_state IN {_sql_list(MEETING_LIVE)}"
    " OR meeting_state = 'created' AND (meeting_start IS NULL OR meeting_end IS NULL"
    " OR meeting_start <> start OR meeting_end <> \"end\"))")


class Session(SQLModel, table=True):
    """A materialized occurrence. Unique by identity; its meeting lives here too.

    meeting_state: none → creating (marker set, also in the meeting's agenda) → created
    (meeting_start/meeting_end: the times last sent to the provider) → deleted.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        sa.UniqueConstraint("series_id", "original_start", name="uq_session_identity"),
        sa.Index("ix_sessions_therapist_start", "therapist_id", "start"),
        sa.Index("ix_sessions_meeting_id", "meeting_id"),
        sa.Index("ix_sessions_status_start", "status", "start"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    series_id: str = Field(foreign_key="series.id", max_length=36)
    therapist_id: str = Field(foreign_key="users.id", max_length=36)
    client_id: str = Field(foreign_key="users.id", max_length=36)
    original_start: datetime = Field(sa_column=_instant())
    start: datetime = Field(sa_column=_instant())
    end: datetime = Field(sa_column=_instant())
    status: str = Field(default="scheduled", max_length=16)
    meeting_state: str = Field(default="none", max_length=16)
    meeting_marker: str | None = Field(default=None, max_length=64)
    meeting_id: str | None = Field(default=None, max_length=32)
    join_url: str | None = Field(default=None, max_length=500)
    notes: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_instant())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_instant())
    # until when one worker's create is in flight; a later worker waits, then adopts by marker
    meeting_claimed_until: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    reminded_24h_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    reminded_1h_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    # the meeting's start and end as last sent to the provider (None: no meeting, or unknown)
    meeting_start: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    meeting_end: datetime | None = Field(default=None, sa_column=_instant(nullable=True))
    # when the periodic sweep last queued a meeting job for this row (it waits a retry budget)
    meeting_swept_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))


sa.Index("ix_sessions_meeting_out_of_step", Session.__table__.c.end,
         postgresql_where=MEETING_OUT_OF_STEP, sqlite_where=MEETING_OUT_OF_STEP)


class WebhookDelivery(SQLModel, table=True):
    """One accepted webhook event; the key makes a redelivery a no-op (event:meeting:event_ts)."""

    __tablename__ = "webhook_deliveries"

    delivery_key: str = Field(primary_key=True, max_length=200)
    event: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_column=_instant(index=True))
