"""Databases of the reliability runs: created fresh next to the test database, migrated."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def sibling_url(base_url: str, suffix: str) -> str:
    """`base_url` with `_suffix` appended to the database name."""
    url = make_url(base_url)
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def fresh_database(url: str) -> sa.Engine:
    """Drop and create the database at `url`, migrate it to Alembic head; an engine on it."""
    from alembic import command
    from alembic.config import Config

    from tests.conftest import _recreate_database

    _recreate_database(url)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def drop_database(url: str) -> None:
    target = make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
            " AND pid <> pg_backend_pid()"), {"name": target.database})
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    admin.dispose()
