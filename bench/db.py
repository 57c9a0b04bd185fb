"""Bench databases on the shared PostgreSQL (made by therabee.testing.databases) and their
write counters."""

from __future__ import annotations

import os
import time

import sqlalchemy as sa

SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def url(name: str) -> str:
    return f"{SERVER}/{name}"


def table_writes(engines: list[sa.Engine], database_url: str) -> dict[str, int]:
    """Inserts + updates + deletes per table, from pg_stat_user_tables.

    PostgreSQL 15 publishes a backend's counters when it goes idle or exits: the writing
    engines' pooled connections are closed first, then a fresh connection reads (after
    pg_stat_clear_snapshot) until two reads agree.
    """
    for engine in engines:
        engine.dispose()
    probe = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    last = None
    for _ in range(60):
        time.sleep(0.05 if last is None else 0.2)
        with probe.connect() as connection:
            connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            rows = connection.execute(sa.text(
                "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
                " WHERE relname <> 'alembic_version'")).all()
        value = {name: int(n) for name, n in rows}
        if value == last:
            break
        last = value
    probe.dispose()
    return value
