"""The test database: created fresh and migrated through Alembic.

THERABEE_TEST_DATABASE_URL (default: postgresql+psycopg://postgres@127.0.0.1:5432/therabee_test)
is where the suite runs. Under CI=true an unreachable PostgreSQL fails the run.
A `sqlite:///…` URL runs it on the default set-up's SQLite (`make test-sqlite`); tests
marked `postgres` are skipped there, with their reason.

THERABEE_TEST_NOW (an ISO instant with offset, or a date: 10:00 UTC) starts the clock of the
suite, of the app it serves to the browser and of its Celery workers at that instant; the
date-sensitive tests (marked `dated`) read "today" from it. `make test-dates` uses it.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

# The suite configures what it runs on; nothing else of the developer's shell (a Redis URL,
# Zoom credentials, a public URL) may reach it or the processes it starts.
for _name in [n for n in os.environ if n.startswith("THERABEE_")]:
    if _name not in ("THERABEE_TEST_DATABASE_URL", "THERABEE_TEST_NOW"):
        del os.environ[_name]

TEST_DATABASE_URL = os.environ.get(
    "THERABEE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/therabee_test")
# The suite's own connections carry a name, so the write counters (tests/integration/
# pg_counters.py) can wait for exactly them; the live app started for browser tests
# gets the plain URL.
APP_NAME = "therabee-tests"
ON_SQLITE = make_url(TEST_DATABASE_URL).get_backend_name() == "sqlite"
os.environ["THERABEE_DATABASE_URL"] = TEST_DATABASE_URL if ON_SQLITE else make_url(
    TEST_DATABASE_URL).update_query_dict({"application_name": APP_NAME}).render_as_string(hide_password=False)
os.environ["THERABEE_JWT_SECRET"] = "test-secret-" + "x" * 40
# Only a test run may pin the clock (settings.py refuses THERABEE_TEST_NOW without it).
os.environ["THERABEE_TESTING"] = "1"


def pytest_collection_modifyitems(config, items) -> None:
    if not ON_SQLITE:
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {marker.kwargs['reason']}"))


def pytest_report_header() -> str:
    pinned = os.environ.get("THERABEE_TEST_NOW")
    return f"clock: pinned to {pinned} (THERABEE_TEST_NOW)" if pinned else "clock: real"


@pytest.fixture(scope="session", autouse=True)
def pinned_clock():
    """With THERABEE_TEST_NOW set, the clock starts at it now and runs on from there; tests'
    set_clock(None) returns to it, and the processes tests start get it (testing/dates.py)."""
    from therabee.services import clock

    return clock.process_clock()


@pytest.fixture(scope="session")
def migrated_db() -> str:
    """A fresh database at TEST_DATABASE_URL, at Alembic head. Returns its URL."""
    from therabee.testing.databases import migrate, recreate_database

    recreate_database(TEST_DATABASE_URL)
    migrate(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture
def clean_db(migrated_db):
    """An empty database for this test (tables emptied before it runs)."""
    from sqlmodel import SQLModel

    import therabee.db.models  # noqa: F401
    from therabee.db.engine import get_engine

    tables = SQLModel.metadata.sorted_tables
    with get_engine().begin() as connection:
        if ON_SQLITE:  # no TRUNCATE: delete children before their parents
            for table in reversed(tables):
                connection.execute(table.delete())
        else:
            connection.execute(sa.text(f"TRUNCATE {', '.join(t.name for t in tables)} CASCADE"))
    yield migrated_db
