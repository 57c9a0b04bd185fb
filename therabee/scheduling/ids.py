"""Occurrence identity: `(series_id, original_start)`, as a string `{series_id}:{YYYYMMDDTHHMMSSZ}`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

_STAMP = "%Y%m%dT%H%M%SZ"
# ASCII digits only, and fullmatch: `$` would let a trailing newline through.
_PATTERN = re.compile(r"([A-Za-z0-9-]{1,64}):(\d{8}T\d{6}Z)", re.ASCII)


class InvalidOccurrenceId(ValueError):
    """The text is not an occurrence id."""


@dataclass(frozen=True, order=True)
class OccurrenceId:
    series_id: str
    original_start: datetime  # aware, UTC

    def to_string(self) -> str:
        return f"{self.series_id}:{self.original_start.astimezone(timezone.utc).strftime(_STAMP)}"

    @classmethod
    def from_string(cls, text: str) -> OccurrenceId:
        match = _PATTERN.fullmatch(text or "")
        if not match:
            raise InvalidOccurrenceId(f"{text!r} is not an occurrence id (series_id:YYYYMMDDTHHMMSSZ)")
        try:
            instant = datetime.strptime(match.group(2), _STAMP).replace(tzinfo=timezone.utc)
        except ValueError as exc:
            raise InvalidOccurrenceId(f"{text!r} has an impossible date") from exc
        return cls(match.group(1), instant)

    def __str__(self) -> str:
        return self.to_string()
