"""Databases of the reliability runs: created fresh next to the test database, migrated."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from therabee.testing.databases import drop_database, migrate, recreate_database  # noqa: F401

def sibling_url(base_url: str, suffix: str) -> str:
    """`base_url` with `_suffix` appended to the database name."""
    url = make_url(base_url)
    return url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)


def fresh_database(url: str) -> sa.Engine:
    """Drop and create the database at `url`, migrate it to Alembic head; an engine on it."""
    recreate_database(url)
    migrate(url)
    return sa.create_engine(url, poolclass=sa.pool.NullPool)
