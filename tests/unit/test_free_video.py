"""The credential-free video provider."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from therabee.settings import Settings
from therabee.video import get_provider
from therabee.video.free import FreeVideoProvider
from therabee.video.provider import VideoProvider

START = datetime(2030, 5, 6, 14, 0, tzinfo=timezone.utc)


def create(provider: FreeVideoProvider, marker: str = "sess-1"):
    return provider.create_meeting(start=START, duration_minutes=50, timezone="Europe/Paris", marker=marker)


def test_links_are_unguessable_rooms_under_the_base_url():
    provider = FreeVideoProvider("https://meet.example.org/")
    meetings = [create(provider) for _ in range(500)]
    for meeting in meetings:
        assert re.fullmatch(r"https://meet\.example\.org/therabee-[a-z0-9]{20,24}", meeting.join_url)
        assert re.fullmatch(r"[0-9a-f]{32}", meeting.id)
    assert len({m.join_url for m in meetings}) == len({m.id for m in meetings}) == 500


def test_update_delete_and_find_do_nothing_remotely():
    provider = FreeVideoProvider("https://meet.example.org")
    meeting = create(provider)
    provider.update_meeting(meeting.id, start=START, duration_minutes=30, timezone="UTC")
    provider.delete_meeting(meeting.id)
    provider.delete_meeting(meeting.id)
    assert provider.find_meeting_by_marker("sess-1") is None


def test_inputs_are_checked_like_zoom():
    provider = FreeVideoProvider("https://meet.example.org")
    with pytest.raises(ValueError):
        create(provider, marker="Jane Doe")
    with pytest.raises(ValueError):
        provider.create_meeting(start=datetime(2030, 5, 6, 14), duration_minutes=50, timezone="UTC", marker="s")
    with pytest.raises(ValueError):
        provider.create_meeting(start=START, duration_minutes=0, timezone="UTC", marker="s")


def test_it_is_the_provider_without_zoom_credentials():
    settings = Settings(jwt_secret="x" * 40, zoom_account_id=None, free_video_base_url="https://meet.example.org")
    provider = get_provider(settings)
    assert isinstance(provider, FreeVideoProvider)
    assert isinstance(provider, VideoProvider)
    assert create(provider).join_url.startswith("https://meet.example.org/therabee-")
