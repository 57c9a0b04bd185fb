"""Brute-force brakes for sign-in: failures counted per account and per client address.

A key holds a failure count for a fixed window that starts at its first failure
(THERABEE_SIGNIN_FAILURE_WINDOW_SECONDS). Once a key reaches its limit every attempt
is refused with 429 and `Retry-After` until the window ends — before the password is
even checked, so a blocked guess learns nothing. A successful sign-in clears the
account's count (not the address's: one address may try many accounts).

Counts live in Redis when THERABEE_REDIS_URL is set (shared by every web process),
else in this process. If Redis does not answer, this process's counts take over.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from therabee.services.errors import ServiceError
from therabee.settings import get_settings

log = logging.getLogger(__name__)
_PREFIX = "therabee:signin-failures:"


class RateLimited(ServiceError):
    """429: too many failures; `retry_after` seconds until the window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed sign-in attempts; try again later", 429,
                         "Too many requests")
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int


class MemoryCounter:
    """Failure counts with expiry, in this process (thread-safe)."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    def get(self, key: str) -> tuple[int, float]:
        """(count, seconds left in the window)."""
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
        return (entry[0], entry[1] - now) if entry else (0, 0.0)

    def incr(self, key: str, window: int) -> None:
        now = time.monotonic()
        with self._lock:
            entry = self._live(key, now)
            self._counts[key] = (entry[0] + 1, entry[1]) if entry else (1, now + window)

    def reset(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class RedisCounter:
    """The same counts in Redis: INCR, and EXPIRE NX so the window starts at the first failure."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str) -> tuple[int, float]:
        pipe = self._redis.pipeline()
        pipe.get(key)
        pipe.pttl(key)
        value, ttl_ms = pipe.execute()
        return (int(value), max(ttl_ms, 0) / 1000) if value is not None else (0, 0.0)

    def incr(self, key: str, window: int) -> None:
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        pipe.execute()

    def reset(self, key: str) -> None:
        self._redis.delete(key)


_memory = MemoryCounter()
_redis_counters: dict[str, RedisCounter] = {}


def _counter():
    url = get_settings().redis_url
    if not url:
        return _memory
    if url not in _redis_counters:
        _redis_counters[url] = RedisCounter(url)
    return _redis_counters[url]


def _with_fallback(action: str, *args):
    counter = _counter()
    try:
        return getattr(counter, action)(*args)
    except Exception as exc:  # Redis down: keep braking with this process's counts
        if counter is _memory:
            raise
        log.warning("sign-in rate limit: redis unavailable (%s); counting in-process", type(exc).__name__)
        return getattr(_memory, action)(*args)


def _limits(email: str, address: str | None) -> list[Limit]:
    settings = get_settings()
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()  # no addresses in Redis
    limits = [Limit(f"{_PREFIX}account:{account}", settings.signin_max_failures_per_account)]
    if address:
        limits.append(Limit(f"{_PREFIX}address:{address}", settings.signin_max_failures_per_address))
    return limits


def check_sign_in(email: str, address: str | None) -> None:
    """Refuse (RateLimited) if the account or the address is over its limit."""
    for limit in _limits(email, address):
        count, seconds_left = _with_fallback("get", limit.key)
        if count >= limit.max_failures:
            raise RateLimited(int(seconds_left + 0.999))


def record_failure(email: str, address: str | None) -> None:
    window = get_settings().signin_failure_window_seconds
    for limit in _limits(email, address):
        _with_fallback("incr", limit.key, window)


def record_success(email: str) -> None:
    _with_fallback("reset", _limits(email, None)[0].key)


def reset_memory() -> None:
    """Forget this process's counts (tests)."""
    _memory.clear()
