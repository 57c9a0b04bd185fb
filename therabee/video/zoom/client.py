"""The Zoom meetings client: one httpx client per process, bounded retries, typed errors.

Retries: 429 and 503 wait for `Retry-After` (seconds or a reset timestamp); other
5xx, timeouts and dropped connections back off exponentially with jitter. After
`max_attempts` the typed error is raised for the caller (a Celery task) to
reschedule. A 401 gets one token refresh and one more try.

A create is not idempotent: when an attempt failed in a way that Zoom may still
have acted on (a read timeout, a dropped connection, a 5xx), the next attempt
first looks for a meeting carrying our marker and adopts it.
"""

from __future__ import annotations

import logging
import os
import random
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
from therabee.video.zoom.retry import backoff_delay, parse_retry_after

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MEETING_NOT_FOUND = 3001
LIST_PAGE_SIZE = 300
# Failures where the request never reached Zoom: safe to repeat even a create.
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
        max_attempts: int = 5,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_retry_after: float = 60.0,
        rng: random.Random | None = None,
        list_page_size: int = LIST_PAGE_SIZE,
    ) -> None:
        """`cache`: optional `redis.Redis`-like token cache shared by processes.

        `sleep` and `clock` are injectable so tests record waits instead of waiting.
        A `Retry-After` longer than `max_retry_after` seconds (a daily limit) is
        not slept through: `VideoRateLimited` is raised at once.
        """
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
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
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._backoff = (backoff_base, backoff_cap)
        self._max_retry_after = max_retry_after
        self._rng = rng or random.Random()
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
        data = self._call("POST", self._user_path, json=body, recover=lambda: self._find_raw(marker))
        return _meeting(data)

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
        recover: Callable[[], dict[str, Any] | None] | None = None,
    ) -> Any:
        """Send one API request with retries; the decoded JSON body, or None for 204."""
        refreshed = False
        maybe_done = False  # an earlier attempt may have been carried out by Zoom
        attempt = 0
        while True:
            attempt += 1
            if maybe_done and recover is not None:
                adopted = recover()
                if adopted is not None:
                    log.info("zoom %s %s: adopted the result of an earlier attempt", method, path)
                    return adopted
            error: VideoError
            wait: float | None = None
            token = None
            try:
                token = self._tokens.get()
                response = self._http.request(
                    method,
                    self._api_url + path,
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except VideoRateLimited as exc:  # from the token endpoint
                error, wait = exc, exc.retry_after
            except VideoUnavailable as exc:  # from the token endpoint
                error = exc
            except _NOT_SENT as exc:
                error = VideoUnavailable(f"Zoom unreachable: {type(exc).__name__}")
            except httpx.TransportError as exc:
                # read timeouts, dropped connections: Zoom may have done it anyway
                error = VideoUnavailable(f"Zoom did not answer: {type(exc).__name__}")
                maybe_done = True
            else:
                status = response.status_code
                if status < 400:
                    return _json(response)
                if status == 401 and not refreshed:
                    refreshed = True
                    self._tokens.invalidate(token)
                    attempt -= 1  # a token refresh is not a failed attempt
                    continue
                error, wait = self._retryable(response, attempt)
                maybe_done = maybe_done or status >= 500
            if attempt >= self._max_attempts:
                raise error
            if wait is None:
                wait = backoff_delay(attempt, *self._backoff, self._rng)
            elif wait > self._max_retry_after:
                raise error  # a daily limit: let the caller reschedule instead of blocking
            log.warning("zoom %s %s failed (%s); retry %d in %.2f s", method, path, error, attempt, wait)
            self._sleep(wait)

    def _retryable(self, response: httpx.Response, attempt: int) -> tuple[VideoError, float | None]:
        """The error and wait for a 429 or 5xx answer; raises at once for any other 4xx."""
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
        if status == 429:
            if retry_after is None:
                retry_after = backoff_delay(attempt, *self._backoff, self._rng)
            limit = response.headers.get("X-RateLimit-Type", "?")
            return VideoRateLimited(retry_after, f"Zoom rate limit ({limit})"), retry_after
        if status >= 500:
            return VideoUnavailable(f"Zoom answered {status}"), retry_after
        raise _client_error(response)


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
