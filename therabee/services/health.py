"""What /health reports: the database, Redis and a worker's heartbeat."""

from __future__ import annotations

import json

import sqlalchemy as sa

from therabee.db.engine import get_engine
from therabee.services import clock
from therabee.settings import get_settings

HEARTBEAT_KEY = "therabee:worker:heartbeat"
HEARTBEAT_TTL_SECONDS = 60  # beat sends a heartbeat every 15 s: four missed ones mean no worker


def _redis_client():
    import redis

    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=1, socket_connect_timeout=1)


def _database() -> str:
    try:
        with get_engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return "ok"
    except Exception as exc:  # report, never raise: health must answer
        return f"unreachable: {type(exc).__name__}"


def _redis() -> str:
    if not get_settings().redis_url:
        return "not configured (jobs run in-process)"
    try:
        _redis_client().ping()
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


def record_heartbeat(worker: str) -> None:
    """A worker is alive: what /health reads, expiring after HEARTBEAT_TTL_SECONDS."""
    value = json.dumps({"worker": worker, "at": clock.now().isoformat()})
    _redis_client().set(HEARTBEAT_KEY, value, ex=HEARTBEAT_TTL_SECONDS)


def _worker() -> str:
    if not get_settings().redis_url:
        return "embedded"
    try:
        fresh = _redis_client().get(HEARTBEAT_KEY) is not None
    except Exception as exc:
        return f"unknown (redis unreachable: {type(exc).__name__})"
    return "ok" if fresh else f"no heartbeat in {HEARTBEAT_TTL_SECONDS} s"


def report() -> dict:
    return {"db": _database(), "redis": _redis(), "worker": _worker()}
