"""What an occurrence shows at a given instant: its status while it runs, and when it can
be joined.

Pure: the caller passes the instant and whether the video provider reports its meetings
starting and ending (Zoom's webhooks). Statuses derived here are never written. One
service applies it to every occurrence it answers with (`services.occurrences.
occurrence_public`), which the API and the pages show; the ICS feed carries no status but
cancellation, which the clock never changes, so all three agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Join opens this long before the start, for the therapist and the client alike, and
# closes at the end. It is never longer than the horizon (at least 1 h, settings.py), so
# an occurrence that can be joined can always be materialized and given its meeting.
JOIN_OPENS = timedelta(hours=1)
JOINABLE_STATUSES = frozenset({"scheduled", "in_progress"})


def status_at(status: str, start: datetime, end: datetime, now: datetime,
              provider_reports_status: bool) -> str:
    """The status to show at `now` (all aware instants) for an occurrence whose stored or
    expanded status is `status` and which runs over `[start, end)`.

    When the video provider does not report meetings starting and ending, a "scheduled"
    occurrence is "in_progress" from its start (inclusive) to its end (exclusive), and
    "scheduled" again after it until its attendance is marked. When it does (Zoom with
    webhooks), `status` is shown as it is: the webhooks write "in_progress" and
    "completed". Any other status is shown as it is.
    """
    if not provider_reports_status and status == "scheduled" and start <= now < end:
        return "in_progress"
    return status


def join_from(status: str, start: datetime) -> datetime | None:
    """The instant Join opens: `JOIN_OPENS` before `start`; None for an occurrence that is
    never joined (cancelled, late cancelled, completed, no show). Join closes at the end."""
    return start - JOIN_OPENS if status in JOINABLE_STATUSES else None


def can_join(status: str, start: datetime, end: datetime, now: datetime) -> bool:
    """Is Join open at `now`: `join_from(status, start) <= now < end`?"""
    opens = join_from(status, start)
    return opens is not None and opens <= now < end
