"""The engine (one per process) and the unit of work every service runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session as DbSession

from therabee.settings import get_settings


@lru_cache
def get_engine() -> sa.Engine:
    """The process's engine. Its errors never quote the statement's parameters (names,
    emails and notes would otherwise reach the logs with a traceback)."""
    url = get_settings().database_url
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)


@contextmanager
def unit_of_work() -> Iterator[DbSession]:
    """A transaction that rolls back unless the block finishes; commits at the end."""
    with DbSession(get_engine(), expire_on_commit=False) as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


@contextmanager
def read_only() -> Iterator[DbSession]:
    """A session for reads: never commits, so a view cannot write by accident."""
    db = DbSession(get_engine(), expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()  # ends the transaction without committing; loaded rows stay readable


def is_postgres(db: DbSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"
