"""What /health reports: the database, Redis and a worker's heartbeat."""

from __future__ import annotations

import sqlalchemy as sa

from therabee.db.engine import get_engine
from therabee.settings import get_settings


def _database() -> str:
    try:
        with get_engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return "ok"
    except Exception as exc:  # report, never raise: health must answer
        return f"unreachable: {type(exc).__name__}"


def _redis() -> str:
    url = get_settings().redis_url
    if not url:
        return "not configured (jobs run in-process)"
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return "ok"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"


def report() -> dict:
    return {"db": _database(), "redis": _redis(), "worker": "not configured"}
