"""Practice rules: a therapist's time off and booking settings. One row per change."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from therabee.db.models import _instant, new_id, utcnow


class TimeOff(SQLModel, table=True):
    """A range in which every occurrence of the therapist's series is skipped."""

    __tablename__ = "time_off"
    __table_args__ = (
        sa.Index("ix_time_off_therapist_start", "therapist_id", "start"),
        # the periodic sweep's: time off whose clients have not been told yet
        sa.Index("ix_time_off_notices_unsent", "end", postgresql_where=sa.text("notices_sent_at IS NULL"),
                 sqlite_where=sa.text("notices_sent_at IS NULL")),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    therapist_id: str = Field(foreign_key="users.id", max_length=36)
    start: datetime = Field(sa_column=_instant())
    end: datetime = Field(sa_column=_instant())
    reason: str | None = Field(default=None, max_length=200)  # shown to the therapist only
    created_at: datetime = Field(default_factory=utcnow, sa_column=_instant())
    # when its notices went out (one per affected series); None until then
    notices_sent_at: datetime | None = Field(default=None, sa_column=_instant(nullable=True))


class PracticeRules(SQLModel, table=True):
    """Buffers, minimum notice, booking window and public holidays of one therapist."""

    __tablename__ = "practice_rules"

    therapist_id: str = Field(foreign_key="users.id", primary_key=True, max_length=36)
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 10
    min_notice_hours: int = 24
    booking_window_weeks: int = 26
    holidays_country: str | None = Field(default=None, max_length=8)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_instant())
