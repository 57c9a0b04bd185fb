"""Rows written, read from PostgreSQL's own counters (pg_stat_user_tables), or on SQLite
from each connection's `total_changes` (rows inserted, updated or deleted through it).

A backend publishes its table counters when it goes idle (up to ~10 s later in PG 15)
or when it exits. So we close our pooled connections, wait until their backends (named
by the suite's application_name, see tests/conftest.py) are gone from
pg_stat_activity (an exiting backend flushes its counters first), and then
read from a fresh connection after `pg_stat_clear_snapshot()`, until two reads agree.
"""

from __future__ import annotations

import time

import sqlalchemy as sa

_WRITES = ("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables"
           " WHERE relname <> 'alembic_version'")
_OTHERS = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
           " AND pid <> pg_backend_pid() AND application_name = current_setting('application_name')")


def table_writes() -> int:
    """Inserts + updates + deletes over all our tables, once every writer has published."""
    from therabee.db.engine import get_engine

    engine = get_engine()
    if engine.dialect.name == "sqlite":
        return _sqlite_writes(engine)
    engine.dispose()  # our pooled backends exit, publishing their counters
    probe = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with probe.connect() as connection:
        for _ in range(100):  # up to 5 s for the backends to finish exiting
            if connection.execute(sa.text(_OTHERS)).scalar_one() == 0:
                break
            time.sleep(0.05)
    last = None
    for _ in range(40):
        with probe.connect() as connection:
            connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            value = connection.execute(sa.text(_WRITES)).scalar_one()
        if value == last:
            break
        last = value
        time.sleep(0.3)
    probe.dispose()
    return int(value)


_sqlite_counted = {"writes": 0}


def _sqlite_writes(engine: sa.Engine) -> int:
    """Writes through the app's engine since the first call (callers compare two calls).
    Every connection is back in the pool by then: a service's session ends with its call."""
    if not sa.event.contains(engine, "checkout", _sqlite_checkout):
        sa.event.listen(engine, "checkout", _sqlite_checkout)
        sa.event.listen(engine, "checkin", _sqlite_checkin)
    return _sqlite_counted["writes"]


def _sqlite_checkout(dbapi_connection, record, _proxy) -> None:
    record.info["changes_at_checkout"] = dbapi_connection.total_changes


def _sqlite_checkin(dbapi_connection, record) -> None:
    if dbapi_connection is not None and "changes_at_checkout" in record.info:
        _sqlite_counted["writes"] += dbapi_connection.total_changes - record.info.pop("changes_at_checkout")
