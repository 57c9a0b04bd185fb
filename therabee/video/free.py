"""A credential-free video provider: unguessable public room links, nothing remote.

Used when no Zoom credentials are configured. The room exists only as a link
(Jitsi Meet style: whoever has the link can join), so the link must be
unguessable: ~130 bits of randomness from `secrets`.

It keeps no state, so `find_meeting_by_marker` always answers None. Creation is
idempotent anyway: the caller stores the link in its session row in the same
step, and a retry that finds a session "creating" simply makes a fresh link;
no remote meeting is ever left behind.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from therabee.video.provider import Meeting, agenda_for, check_duration, utc_z

ROOM_PREFIX = "therabee-"


class FreeVideoProvider:
    """Implements `VideoProvider` with links under `base_url` (e.g. https://meet.jit.si)."""

    def __init__(self, base_url: str) -> None:
        """`base_url`: the video service's root; rooms are `{base_url}/therabee-<random>`."""
        self._base_url = base_url.rstrip("/")

    def create_meeting(
        self, *, start: datetime, duration_minutes: int, timezone: str, marker: str
    ) -> Meeting:
        """A new unguessable room; arguments are checked like Zoom's but not sent anywhere."""
        utc_z(start)
        check_duration(duration_minutes)
        agenda_for(marker)
        return Meeting(id=secrets.token_hex(16), join_url=f"{self._base_url}/{new_room_name()}")

    def update_meeting(
        self, meeting_id: str, *, start: datetime, duration_minutes: int, timezone: str
    ) -> None:
        """Nothing to do: a room link has no time."""

    def delete_meeting(self, meeting_id: str) -> None:
        """Nothing to do: forgetting the link (in our database) is deleting the room."""

    def find_meeting_by_marker(self, marker: str) -> Meeting | None:
        """Always None: the provider is stateless (see the module docstring)."""
        return None


def new_room_name() -> str:
    """`therabee-` + at least 20 random lowercase letters and digits."""
    while True:
        # lowercase alphanumerics only: room names survive case-folding and URL editing
        token = "".join(c for c in secrets.token_urlsafe(18).lower() if c.isalnum())
        if len(token) >= 20:  # filtering rarely drops more than a few characters
            return ROOM_PREFIX + token
