"""Throw-away databases for the tests, the benchmark and the reliability runs: dropped,
created and migrated through Alembic (never `create_all`). PostgreSQL, or a SQLite file
(the default set-up, for the SQLite test tier)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def _admin(url: str, *statements: str) -> None:
    """Run statements on the server's `postgres` database, after closing every other
    connection to the target database."""
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres", query={}), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
            " AND pid <> pg_backend_pid()"), {"name": target.database})
        for statement in statements:
            connection.execute(sa.text(statement.format(name=target.database)))
    admin.dispose()


def _sqlite_file(url: str) -> Path | None:
    target = make_url(url)
    return Path(target.database) if target.get_backend_name() == "sqlite" and target.database else None


def drop_database(url: str) -> None:
    if path := _sqlite_file(url):
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    _admin(url, 'DROP DATABASE IF EXISTS "{name}"')


def recreate_database(url: str) -> None:
    """An empty database at `url` (whatever was there is dropped)."""
    if path := _sqlite_file(url):
        drop_database(url)
        path.parent.mkdir(parents=True, exist_ok=True)  # SQLite creates the file on connect
        return
    _admin(url, 'DROP DATABASE IF EXISTS "{name}"', 'CREATE DATABASE "{name}"')


def migrate(url: str) -> None:
    """Alembic upgrade to head on the database at `url`."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ALEMBIC_INI))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
