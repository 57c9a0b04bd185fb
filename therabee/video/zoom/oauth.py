"""Zoom Server-to-Server OAuth: one access token, shared, refreshed one at a time.

A token is cached until a minute before it expires. Within a process a
`threading.Lock` makes sure only one thread asks Zoom for a new one. When a
`redis.Redis`-like cache is given, the token is also kept there (with a TTL) and
a Redis lock is held around the refresh, so all workers and web processes share
one token and only one of them refreshes it. Redis trouble never blocks video:
without it we fall back to the in-process cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from therabee.video.provider import VideoAuthError, VideoRateLimited, VideoUnavailable
from therabee.video.zoom.retry import parse_retry_after

log = logging.getLogger(__name__)

try:
    from redis.exceptions import RedisError as _RedisError
except ImportError:  # redis is optional for this module
    _RedisError = OSError  # type: ignore[assignment,misc]

EARLY_REFRESH_SECONDS = 60.0


class TokenSource:
    """Hands out a valid Zoom access token, fetching a new one only when needed."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        oauth_url: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        cache: Any | None = None,
        clock: Callable[[], float] = time.time,
        lock_timeout: float = 30.0,
    ) -> None:
        """`cache` is an optional `redis.Redis`-like object (get/set/delete/lock)."""
        self._http = http
        self._oauth_url = oauth_url
        self._account_id = account_id
        self._auth = (client_id, client_secret)
        self._cache = cache
        self._clock = clock
        self._lock_timeout = lock_timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._usable_until = 0.0
        # One key per Zoom app, without putting the client id itself in Redis.
        digest = hashlib.sha256(f"{account_id}:{client_id}".encode()).hexdigest()[:16]
        self.cache_key = f"therabee:zoom:token:{digest}"

    def get(self) -> str:
        """A token valid for at least another minute (or freshly issued)."""
        token = self._local()
        if token is not None:
            return token
        with self._lock:
            token = self._local()  # another thread may have refreshed while we waited
            if token is not None:
                return token
            token, usable_until = self._shared_or_fetch()
            self._token, self._usable_until = token, usable_until
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` after Zoom rejected it, unless it was already replaced."""
        with self._lock:
            if self._token == token:
                self._token, self._usable_until = None, 0.0
        if self._cache is None:
            return
        try:
            shared = self._read_shared(check_expiry=False)
            if shared is not None and shared[0] == token:
                self._cache.delete(self.cache_key)
        except _RedisError:
            log.warning("zoom token cache unavailable while invalidating", exc_info=True)

    def _local(self) -> str | None:
        if self._token is not None and self._clock() < self._usable_until:
            return self._token
        return None

    def _shared_or_fetch(self) -> tuple[str, float]:
        if self._cache is None:
            return self._fetch()
        shared = self._safe_read_shared()
        if shared is not None:
            return shared
        lock = self._acquire_shared_lock()
        try:
            shared = self._safe_read_shared()  # the lock holder before us may have refreshed
            if shared is not None:
                return shared
            token, usable_until = self._fetch()
            self._write_shared(token, usable_until)
            return token, usable_until
        finally:
            if lock is not None:
                try:
                    lock.release()
                except _RedisError:  # expired or Redis gone: nothing left to release
                    log.warning("zoom token lock release failed", exc_info=True)

    def _acquire_shared_lock(self) -> Any | None:
        try:
            lock = self._cache.lock(
                self.cache_key + ":lock",
                timeout=self._lock_timeout,
                blocking_timeout=self._lock_timeout,
            )
            if lock.acquire():
                return lock
            log.warning("zoom token lock not acquired in %.0f s; refreshing anyway", self._lock_timeout)
        except _RedisError:
            log.warning("zoom token cache unavailable; refreshing in-process", exc_info=True)
        return None

    def _safe_read_shared(self) -> tuple[str, float] | None:
        try:
            return self._read_shared(check_expiry=True)
        except _RedisError:
            log.warning("zoom token cache unavailable; using in-process cache", exc_info=True)
            return None

    def _read_shared(self, *, check_expiry: bool) -> tuple[str, float] | None:
        raw = self._cache.get(self.cache_key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            token, usable_until = str(data["access_token"]), float(data["usable_until"])
        except (ValueError, KeyError, TypeError):
            return None
        if check_expiry and self._clock() >= usable_until:
            return None
        return token, usable_until

    def _write_shared(self, token: str, usable_until: float) -> None:
        ttl = int(usable_until - self._clock())
        if ttl < 1:
            return
        value = json.dumps({"access_token": token, "usable_until": usable_until})
        try:
            self._cache.set(self.cache_key, value, ex=ttl)
        except _RedisError:
            log.warning("zoom token cache unavailable; token kept in-process", exc_info=True)

    def _fetch(self) -> tuple[str, float]:
        try:
            response = self._http.post(
                self._oauth_url,
                data={"grant_type": "account_credentials", "account_id": self._account_id},
                auth=self._auth,
            )
        except httpx.TransportError as exc:
            raise VideoUnavailable(f"Zoom OAuth unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            raise VideoRateLimited(1.0 if wait is None else wait, "Zoom OAuth rate limit")
        if status >= 500:
            raise VideoUnavailable(f"Zoom OAuth answered {status}")
        if status != 200:
            raise VideoAuthError(f"Zoom OAuth refused the credentials ({status} {_oauth_error(response)})")
        try:
            data = response.json()
            token = str(data["access_token"])
            expires_in = float(data.get("expires_in", 3599))
        except (ValueError, KeyError, TypeError) as exc:
            raise VideoUnavailable("Zoom OAuth answered without a token") from exc
        log.info("zoom access token issued, expires in %.0f s", expires_in)
        return token, self._clock() + max(0.0, expires_in - EARLY_REFRESH_SECONDS)


def _oauth_error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""
