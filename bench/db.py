"""Bench databases on the shared PostgreSQL: create, drop, migrate, and read write counters."""

from __future__ import annotations

import os
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url

SERVER = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def url(name: str) -> str:
    return f"{SERVER}/{name}"


def recreate(database_url: str) -> None:
    target = make_url(database_url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
            " AND pid <> pg_backend_pid()"), {"name": target.database})
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def drop(database_url: str) -> None:
    target = make_url(database_url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
            " AND pid <> pg_backend_pid()"), {"name": target.database})
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    admin.dispose()


def migrate(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(os.path.join(ROOT, "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url)
    command.upgrade(config, "head")


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
