"""Errors as application/problem+json (RFC 9457), with field-level messages."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from therabee.services.errors import DATABASE_RETRY_AFTER_SECONDS, ServiceError, database_unavailable

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


def database_unavailable_problem() -> JSONResponse:
    """503 with Retry-After: the database is away; nothing of the request was kept."""
    response = problem(503, "Service temporarily unavailable",
                       "The database cannot be reached right now; nothing was changed. "
                       f"Try again in {DATABASE_RETRY_AFTER_SECONDS} seconds.")
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailable:
    """ASGI middleware: an error that means the database is unreachable or a connection was
    cut (`services.errors.database_unavailable`, however wrapped) answers 503 problem+json
    with Retry-After. The unit of work has already rolled back by then. Any other error,
    or one raised after the answer has started, goes on to the 500 handler unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            log.warning("database unavailable, answered 503: %s", type(exc).__name__)
            await database_unavailable_problem()(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(DatabaseUnavailable)  # inside the 500 handler, outside the others
