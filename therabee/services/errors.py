"""What a service can refuse. The API turns these into problem+json; the UI into messages."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
import sqlalchemy as sa

from therabee.scheduling.timezones import utc

# Seconds a client should wait before retrying when the database is away: the pool
# pre-pings and replaces dead connections on the next checkout, so a cut connection
# heals at once and a PostgreSQL restart or fail-over takes a few seconds; 5 s spares
# a struggling server a stampede without making clients wait long after it is back.
DATABASE_RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ServiceError(Exception):
    detail: str
    status: int = 400
    title: str = "Bad request"
    errors: list[FieldError] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        return self.detail


def invalid(field_name: str, message: str) -> ServiceError:
    """422 naming the field at fault."""
    return ServiceError(f"{field_name}: {message}", 422, "Invalid request",
                        [FieldError(field_name, message)])


def whole_minute(field_name: str, instant: datetime) -> datetime:
    """The aware `instant` in UTC, or a 422 naming `field_name` when it carries seconds or a
    fraction of a second: every start and end a user sets is a whole minute (an occurrence's
    id keeps no fraction, and rules and hours are written in minutes)."""
    instant = utc(instant)
    if instant.second or instant.microsecond:
        raise invalid(field_name, "must be a whole minute (no seconds)")
    return instant


def not_found(what: str = "resource") -> ServiceError:
    return ServiceError(f"No such {what}", 404, "Not found")


def forbidden(detail: str) -> ServiceError:
    return ServiceError(detail, 403, "Forbidden")


def unauthorized(detail: str = "A valid bearer token is required") -> ServiceError:
    return ServiceError(detail, 401, "Unauthorized")


def conflict(detail: str, conflicts: list[dict]) -> ServiceError:
    return ServiceError(detail, 409, "Conflict", conflicts=conflicts)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from or while handling, means the database
    could not be reached or its connection was lost (a 503: retry later, nothing was kept):

    - any SQLAlchemy DBAPIError with `connection_invalidated` (a disconnect mid-statement);
    - psycopg's OperationalError and InterfaceError, whichever way SQLAlchemy wraps them:
      refused or terminated connections, the server shutting down, too many connections,
      deadlocks, serialization failures and cancelled statements (all transient);
    - sqlalchemy.exc.TimeoutError: the connection pool stayed exhausted;
    - SQLite's "database is locked" (the default set-up, after its busy timeout).

    Not IntegrityError, ProgrammingError, DataError and the like: those are our bugs or
    bad data, and answering "try again" would be a lie. Never raises.
    """
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
            return True
        driver_error = error.orig if isinstance(error, sa.exc.DBAPIError) else error
        if isinstance(driver_error, (psycopg.OperationalError, psycopg.InterfaceError, sa.exc.TimeoutError)):
            return True
        if isinstance(driver_error, sqlite3.OperationalError) and "database is locked" in str(driver_error):
            return True
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return False
