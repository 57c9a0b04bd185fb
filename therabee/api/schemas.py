"""Request bodies. Unknown fields are refused; ints are ints; instants carry an offset."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StrictStr


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Body):
    email: StrictStr = Field(max_length=254)
    password: StrictStr = Field(max_length=128)
    name: StrictStr = Field(max_length=120)
    role: Literal["client", "therapist"]
    timezone: StrictStr = Field(max_length=64)


class TokenIn(Body):
    email: StrictStr = Field(max_length=254)
    password: StrictStr = Field(max_length=128)


class WeeklyBlock(Body):
    weekday: StrictInt = Field(ge=0, le=6)
    start: StrictStr = Field(pattern=r"^\d\d:\d\d$")
    end: StrictStr = Field(pattern=r"^\d\d:\d\d$")


class AvailabilityIn(Body):
    timezone: StrictStr = Field(max_length=64)
    weekly: list[WeeklyBlock] = Field(max_length=50)


class SeriesIn(Body):
    therapist_id: StrictStr = Field(max_length=64)
    client_id: StrictStr | None = Field(default=None, max_length=64)
    start: AwareDatetime
    timezone: StrictStr | None = Field(default=None, max_length=64)
    duration_minutes: StrictInt
    rrule: StrictStr | None = Field(max_length=500)
    sessions_limit: StrictInt | None = None


class PauseIn(Body):
    from_: date = Field(alias="from")
    until: date


class FromIn(Body):
    from_: AwareDatetime = Field(alias="from")


class SplitIn(Body):
    from_: AwareDatetime = Field(alias="from")
    start: AwareDatetime | None = None
    duration_minutes: StrictInt | None = None
    rrule: StrictStr | None = Field(default=None, max_length=500)


class CancelIn(Body):
    reason: StrictStr | None = Field(default=None, max_length=500)


class MoveIn(Body):
    start: AwareDatetime
    duration_minutes: StrictInt | None = None


class AttendanceIn(Body):
    status: Literal["completed", "no_show"]


class TimeOffIn(Body):
    start: AwareDatetime
    end: AwareDatetime
    reason: StrictStr | None = Field(default=None, max_length=200)


class PracticeRulesIn(Body):
    buffer_before_minutes: StrictInt = Field(default=0, ge=0, le=240)
    buffer_after_minutes: StrictInt = Field(default=10, ge=0, le=240)
    min_notice_hours: StrictInt = Field(default=24, ge=0, le=24 * 60)
    booking_window_weeks: StrictInt = Field(default=26, ge=1, le=104)
    holidays_country: StrictStr | None = Field(default=None, max_length=8)
