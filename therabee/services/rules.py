"""A therapist's practice rules as one value: buffers, minimum notice, booking window,
public-holiday country. Read by the calendar loader and by the practice services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session as DbSession

from therabee.db.models_rules import PracticeRules


@dataclass(frozen=True)
class Rules:
    buffer_before: timedelta
    buffer_after: timedelta
    min_notice: timedelta
    booking_window: timedelta
    holidays_country: str | None

    @property
    def pad(self) -> timedelta:
        """Free time kept between two sessions."""
        return self.buffer_before + self.buffer_after


def rules_of(row: PracticeRules | None) -> Rules:
    row = row or PracticeRules(therapist_id="")
    return Rules(timedelta(minutes=row.buffer_before_minutes), timedelta(minutes=row.buffer_after_minutes),
                 timedelta(hours=row.min_notice_hours), timedelta(weeks=row.booking_window_weeks),
                 row.holidays_country)


def rules_for(db: DbSession, therapist_id: str) -> Rules:
    return rules_of(db.get(PracticeRules, therapist_id))
