"""Responses: instants in UTC with `Z`, dates as YYYY-MM-DD."""

from __future__ import annotations

from datetime import date, datetime, timezone

from fastapi.responses import JSONResponse


def encode(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def respond(data, status: int = 200) -> JSONResponse:
    return JSONResponse(encode(data), status_code=status)


def items(rows: list) -> JSONResponse:
    return respond({"items": rows})
