"""Errors as application/problem+json (RFC 9457), with field-level messages."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from therabee.services.errors import ServiceError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM, headers=headers)


def _validation_field(loc: tuple) -> str:
    """`weekly[0].start`: list positions in brackets, as the services name them."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")
             and not str(p).startswith("function-")]
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    return (name.replace("from_", "from") or "body")


async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
    extra = {}
    if exc.errors:
        extra["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    if exc.conflicts:
        extra["conflicts"] = exc.conflicts
    return problem(exc.status, exc.title, exc.detail, **extra)


async def _request_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for error in exc.errors():
        kind = error.get("type", "")
        field = "body" if kind == "json_invalid" else _validation_field(tuple(error.get("loc", ())))
        errors.append({"field": field, "message": error.get("msg", "is invalid")})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Invalid request", detail, errors=errors)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error")
    return problem(500, "Internal error", "Something went wrong on our side; nothing was changed.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
