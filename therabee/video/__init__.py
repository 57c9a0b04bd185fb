"""Video meetings: the provider interface, Zoom, and a credential-free fallback."""

from __future__ import annotations

from therabee.settings import Settings, get_settings
from therabee.video.provider import (
    TOPIC,
    Meeting,
    VideoAuthError,
    VideoError,
    VideoNotFound,
    VideoProvider,
    VideoRateLimited,
    VideoRequestError,
    VideoUnavailable,
)

__all__ = [
    "TOPIC",
    "Meeting",
    "VideoAuthError",
    "VideoError",
    "VideoNotFound",
    "VideoProvider",
    "VideoRateLimited",
    "VideoRequestError",
    "VideoUnavailable",
    "get_provider",
    "reports_meeting_status",
]


def get_provider(settings: Settings | None = None) -> VideoProvider:
    """Zoom when its credentials are set (one client per process), else the free provider."""
    settings = settings or get_settings()
    if settings.zoom_enabled:
        from therabee.video.zoom.client import get_zoom_client  # httpx only when Zoom is used

        return get_zoom_client(settings)
    from therabee.video.free import FreeVideoProvider

    return FreeVideoProvider(settings.free_video_base_url)


def reports_meeting_status(settings: Settings | None = None) -> bool:
    """Does the provider tell us when its meetings start and end? Zoom does, through its
    webhooks, once their secret is set (THERABEE_ZOOM_WEBHOOK_SECRET); the free provider
    never does, so a session's "in progress" is then derived from the clock."""
    settings = settings or get_settings()
    return settings.zoom_enabled and bool(settings.zoom_webhook_secret)
