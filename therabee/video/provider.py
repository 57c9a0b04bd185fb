"""The video provider interface every meeting backend implements, and its errors.

Meetings never carry health data: the topic is always `TOPIC`, and the only thing
of ours a meeting holds is an opaque marker in its agenda (`ref:<marker>`). The
marker lets a retry that finds a session stuck in "creating" adopt the meeting a
previous attempt made instead of creating a second one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

TOPIC = "Therapy session"
AGENDA_PREFIX = "ref:"
# Opaque ids only (a session id, a uuid): never a name or a note.
_MARKER = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Meeting:
    """A meeting as we store it: the provider's id (always a string) and the join link."""

    id: str
    join_url: str


class VideoError(Exception):
    """Base class of every error a video provider raises."""


class VideoRateLimited(VideoError):
    """The provider asked us to slow down; `retry_after`: seconds it asked us to wait
    (None: it did not say)."""

    def __init__(self, retry_after: float | None, message: str = "video provider rate limit") -> None:
        super().__init__(message if retry_after is None else f"{message} (retry after {retry_after:.1f} s)")
        self.retry_after = retry_after


class VideoUnavailable(VideoError):
    """5xx, timeout or connection error: worth retrying later (`retry_after`: seconds the
    provider asked us to wait, as a 503 may; None: it did not say)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VideoAuthError(VideoError):
    """Credentials refused or token rejected twice: a configuration problem, not retryable."""


class VideoRequestError(VideoError):
    """The provider refused the request (4xx other than auth and rate limits)."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"{status} (code {code}): {message}")
        self.status = status
        self.code = code


class VideoNotFound(VideoRequestError):
    """The meeting does not exist (Zoom: 404 code 3001)."""


@runtime_checkable
class VideoProvider(Protocol):
    """What the service layer needs from a video backend. All times are aware; ids are str."""

    def create_meeting(
        self, *, start: datetime, duration_minutes: int, timezone: str, marker: str
    ) -> Meeting:
        """Create a meeting starting at `start` (aware), tagged with the opaque `marker`."""
        ...

    def update_meeting(
        self, meeting_id: str, *, start: datetime, duration_minutes: int, timezone: str
    ) -> None:
        """Move or resize a meeting."""
        ...

    def delete_meeting(self, meeting_id: str) -> None:
        """Delete a meeting; one that is already gone is not an error."""
        ...

    def find_meeting_by_marker(self, marker: str) -> Meeting | None:
        """The upcoming meeting created with `marker`, if any."""
        ...


def agenda_for(marker: str) -> str:
    """The agenda text that carries `marker`; refuses anything but an opaque id."""
    if not _MARKER.fullmatch(marker):
        raise ValueError("marker must be an opaque id: 1-128 of [A-Za-z0-9._:-]")
    return AGENDA_PREFIX + marker


def check_duration(duration_minutes: int) -> int:
    """A meeting length in whole minutes, at least one."""
    if isinstance(duration_minutes, bool) or not isinstance(duration_minutes, int):
        raise ValueError("duration_minutes must be an int")
    if duration_minutes < 1:
        raise ValueError("duration_minutes must be at least 1")
    return duration_minutes


def utc_z(start: datetime) -> str:
    """An aware datetime as the UTC `YYYY-MM-DDTHH:MM:SSZ` form Zoom expects."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    return start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
