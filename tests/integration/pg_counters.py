"""Rows written, read from PostgreSQL's own counters (pg_stat_user_tables).

Counters of a backend are published when it goes idle (up to ~10 s later in PG 15), so
we close our pooled connections and force a flush through a fresh connection.
"""

from __future__ import annotations

import time

import sqlalchemy as sa


def table_writes() -> int:
    """Inserts + updates + deletes over all our tables, after flushing the statistics."""
    from therabee.db.engine import get_engine

    engine = get_engine()
    engine.dispose()  # idle every pooled backend so its counters get published
    time.sleep(0.05)
    probe = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    last = None
    for _ in range(40):
        with probe.connect() as connection:
            connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            value = connection.execute(sa.text(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables"
                " WHERE relname <> 'alembic_version'")).scalar_one()
        if value == last:
            break
        last = value
        time.sleep(0.3)
    probe.dispose()
    return int(value)
