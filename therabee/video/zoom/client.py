"""The Zoom meetings client: one httpx client per process, one attempt per call, typed errors.

The client does not retry: the job that called it does (one retry layer, with jittered
backoff that honours `Retry-After`: services/jobs.py). It turns each answer into a typed
error that says what the job needs: `VideoRateLimited` and `VideoUnavailable` carry the
seconds of a `Retry-After` (seconds or a reset timestamp); 5xx, timeouts and dropped
connections are `VideoUnavailable`. A 401 gets one token refresh and one more try (that
is the OAuth protocol, not a retry).

A create is not idempotent: when a call failed in a way that Zoom may still have acted on,
the next run of the job finds the session "creating" and first looks for a meeting
carrying its marker (`find_meeting_by_marker`) and adopts it (services/meetings.py).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from therabee.settings import Settings, get_settings
from therabee.video.provider import (
    TOPIC,
    Meeting,
    VideoAuthError,
    VideoError,
    VideoNotFound,
    VideoRateLimited,
    VideoRequestError,
    VideoUnavailable,
    agenda_for,
    check_duration,
    utc_z,
)
from therabee.video.zoom.oauth import TokenSource
from therabee.video.zoom.retry import parse_retry_after

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MEETING_NOT_FOUND = 3001
LIST_PAGE_SIZE = 300
# Failures where the request never reached Zoom.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class ZoomClient:
    """Zoom meetings for one Server-to-Server OAuth app; implements `VideoProvider`."""

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        user_id: str = "me",
        oauth_url: str = "https://zoom.us/oauth/token",
        api_url: str = "https://api.zoom.us/v2",
        cache: Any | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        list_page_size: int = LIST_PAGE_SIZE,
    ) -> None:
        """`cache`: optional `redis.Redis`-like token cache shared by processes; `clock`
        (Unix seconds) is injectable for tests of token expiry and reset timestamps."""
        self._http = httpx.Client(timeout=timeout, headers={"Accept": "application/json"})
        self._tokens = TokenSource(
            self._http,
            oauth_url=oauth_url,
            account_id=account_id,
            client_id=client_id,
            client_secret=client_secret,
            cache=cache,
            clock=clock,
        )
        self._api_url = api_url.rstrip("/")
        self._user_path = f"/users/{user_id}/meetings"
        self._clock = clock
        self._list_page_size = list_page_size

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> ZoomClient:
        """A client configured from the settings; `options` go to the constructor."""
        if not settings.zoom_enabled:
            raise VideoAuthError("Zoom credentials are not configured")
        return cls(
            account_id=settings.zoom_account_id or "",
            client_id=settings.zoom_client_id or "",
            client_secret=settings.zoom_client_secret or "",
            user_id=settings.zoom_user_id,
            oauth_url=settings.zoom_oauth_url,
            api_url=settings.zoom_api_url,
            **options,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def create_meeting(
        self, *, start: datetime, duration_minutes: int, timezone: str, marker: str
    ) -> Meeting:
        """Create a scheduled meeting (type 2) with the fixed topic and `ref:<marker>` agenda."""
        body = {
            "topic": TOPIC,
            "type": 2,
            "start_time": utc_z(start),
            "duration": check_duration(duration_minutes),
            "timezone": _zone(timezone),
            "agenda": agenda_for(marker),
            "settings": {"waiting_room": True, "join_before_host": False},
        }
        return _meeting(self._call("POST", self._user_path, json=body))

    def update_meeting(
        self, meeting_id: str, *, start: datetime, duration_minutes: int, timezone: str
    ) -> None:
        """Move or resize a meeting; `VideoNotFound` if it no longer exists."""
        body = {
            "start_time": utc_z(start),
            "duration": check_duration(duration_minutes),
            "timezone": _zone(timezone),
        }
        self._call("PATCH", f"/meetings/{_id(meeting_id)}", json=body)

    def delete_meeting(self, meeting_id: str) -> None:
        """Delete a meeting; one already gone (404 code 3001) is fine."""
        try:
            self._call("DELETE", f"/meetings/{_id(meeting_id)}")
        except VideoNotFound as exc:
            if exc.code != MEETING_NOT_FOUND:
                raise

    def find_meeting_by_marker(self, marker: str) -> Meeting | None:
        """The upcoming meeting whose agenda is `ref:<marker>`, paging through all of them."""
        data = self._find_raw(marker)
        return None if data is None else _meeting(data)

    def _find_raw(self, marker: str) -> dict[str, Any] | None:
        agenda = agenda_for(marker)
        params: dict[str, Any] = {"type": "upcoming", "page_size": self._list_page_size}
        while True:
            page = self._call("GET", self._user_path, params=params) or {}
            for item in page.get("meetings") or []:
                if (item.get("agenda") or "").strip() == agenda:
                    return item
            next_token = page.get("next_page_token")
            if not next_token:
                return None
            params = {**params, "next_page_token": next_token}

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send one API request; the decoded JSON body, or None for 204. Raises the typed
        error of a failure (after one token refresh for a 401)."""
        for refreshed in (False, True):
            token = self._tokens.get()
            try:
                response = self._http.request(
                    method,
                    self._api_url + path,
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except _NOT_SENT as exc:
                raise VideoUnavailable(f"Zoom unreachable: {type(exc).__name__}") from exc
            except httpx.TransportError as exc:
                # read timeouts, dropped connections: Zoom may have done it anyway
                raise VideoUnavailable(f"Zoom did not answer: {type(exc).__name__}") from exc
            if response.status_code == 401 and not refreshed:
                self._tokens.invalidate(token)
                continue
            if response.status_code < 400:
                return _json(response)
            raise self._error(response)

    def _error(self, response: httpx.Response) -> VideoError:
        """The typed error of a failed answer; 429 and 5xx carry their `Retry-After`."""
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
        if status == 429:
            limit = response.headers.get("X-RateLimit-Type", "?")
            return VideoRateLimited(retry_after, f"Zoom rate limit ({limit})")
        if status >= 500:
            return VideoUnavailable(f"Zoom answered {status}", retry_after)
        return _client_error(response)


def _client_error(response: httpx.Response) -> VideoError:
    status = response.status_code
    try:
        body = response.json()
        code, message = body.get("code"), str(body.get("message", ""))
    except (ValueError, AttributeError):
        code, message = None, response.reason_phrase
    code = code if isinstance(code, int) else None
    if status in (401, 403):
        return VideoAuthError(f"Zoom refused the token ({status} code {code}): {message}")
    if status == 404:
        return VideoNotFound(status, code, message)
    return VideoRequestError(status, code, message)


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise VideoError(f"Zoom answered {response.status_code} with a body that is not JSON") from exc


def _meeting(data: dict[str, Any]) -> Meeting:
    try:
        return Meeting(id=str(data["id"]), join_url=str(data["join_url"]))
    except (KeyError, TypeError) as exc:
        raise VideoUnavailable("Zoom answered without a meeting id or join_url") from exc


def _id(meeting_id: str) -> str:
    # Zoom meeting ids are 64-bit integers; refuse anything else before it reaches a URL.
    text = str(meeting_id)
    if not text.isdigit():
        raise ValueError("a Zoom meeting id is a string of digits")
    return text


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


_clients: dict[tuple[Any, ...], ZoomClient] = {}
_clients_lock = threading.Lock()


def get_zoom_client(settings: Settings | None = None) -> ZoomClient:
    """The process's Zoom client for these settings, created on first use.

    Keyed by the process id too, so a forked Celery worker never shares its
    parent's sockets. With `redis_url` set, the token is shared through Redis.
    """
    settings = settings or get_settings()
    key = (
        os.getpid(),
        settings.zoom_account_id,
        settings.zoom_client_id,
        settings.zoom_client_secret,
        settings.zoom_user_id,
        settings.zoom_oauth_url,
        settings.zoom_api_url,
        settings.redis_url,
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            cache = _redis_cache(settings.redis_url)
            client = _clients[key] = ZoomClient.from_settings(settings, cache=cache)
        return client


def _redis_cache(url: str | None) -> Any | None:
    if not url:
        return None
    import redis  # only needed when a shared cache is configured

    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
