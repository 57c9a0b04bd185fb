"""PostgreSQL away or a connection cut mid-request: 503 problem+json with Retry-After, and
nothing of the request kept; /health names the database as the dependency that is down."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL
from tests.integration.factories import API, book, next_weekday_at, register, therapist_with_hours

ON_POSTGRES = pytest.mark.postgres(reason="refuses and cuts PostgreSQL connections")

ALWAYS_OPEN = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
PROBLEM = "application/problem+json"


def _admin() -> sa.Engine:
    """Our own connections to the server, outside the app's pool."""
    return sa.create_engine(make_url(TEST_DATABASE_URL).set(database="postgres", query={}),
                            isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _count(sql: str, **params) -> int:
    """An independent read of the test database (not through the app's engine or pool)."""
    engine = sa.create_engine(make_url(TEST_DATABASE_URL).set(query={}), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


@contextmanager
def _database_refusing_connections() -> Iterator[None]:
    """PostgreSQL turns every new connection to the test database away, and ends the open
    ones (the app's pooled connections among them), until the block ends."""
    name = make_url(TEST_DATABASE_URL).database
    admin = _admin()
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                       " WHERE datname = :name"), {"name": name})
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["status"] == 503
    assert body["title"] == "Service temporarily unavailable"
    assert "nothing was changed" in body["detail"]
    for leak in ("SELECT", "INSERT", "psycopg", "OperationalError", "127.0.0.1"):
        assert leak not in response.text


@ON_POSTGRES
def test_reads_writes_and_sign_in_answer_503_while_the_database_refuses_and_work_after(api):
    therapist = therapist_with_hours(api, "UTC", ALWAYS_OPEN)
    client = register(api, "client", "UTC")
    start = next_weekday_at(1, 10, "UTC")
    new_email = "newcomer@example.test"
    requests = {
        "GET, signed in": lambda: api.get(f"{API}/therapists/{therapist.id}/availability",
                                          headers=client.auth),
        "GET /me": lambda: api.get(f"{API}/me", headers=therapist.auth),
        "POST /series (writes)": lambda: book(api, client, therapist, start),
        "POST /auth/register (writes)": lambda: api.post(f"{API}/auth/register", json={
            "email": new_email, "password": "correct horse battery", "name": "New Comer",
            "role": "client", "timezone": "UTC"}),
        "POST /auth/token": lambda: api.post(f"{API}/auth/token", json={
            "email": client.email, "password": "correct horse battery"}),
    }
    with _database_refusing_connections():
        for name, request in requests.items():
            response = request()
            assert response.status_code == 503, name
            _assert_unavailable(response)

    assert _count("SELECT count(*) FROM series") == 0
    assert _count("SELECT count(*) FROM users WHERE email = :email", email=new_email) == 0
    expected = {"GET, signed in": 200, "GET /me": 200, "POST /series (writes)": 201,
                "POST /auth/register (writes)": 201, "POST /auth/token": 200}
    assert {name: request().status_code for name, request in requests.items()} == expected
    assert _count("SELECT count(*) FROM series") == 1


@ON_POSTGRES
def test_health_names_the_database_as_down(api):
    assert api.get(f"{API}/health").json()["db"] == "ok"
    with _database_refusing_connections():
        response = api.get(f"{API}/health")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert set(body) == {"db", "redis", "worker"}
    assert body["db"] == "unreachable: OperationalError"
    assert body["redis"] in ("ok", "not configured (jobs run in-process)")  # Redis is not what is down
    after = api.get(f"{API}/health")
    assert after.status_code == 200 and after.json()["db"] == "ok"


@contextmanager
def _cut_connection_before(statement_start: str) -> Iterator[list[str]]:
    """The app's connection is terminated by PostgreSQL just before it runs the first
    statement starting with `statement_start`; yields the statements it ran until then."""
    from therabee.db.engine import get_engine

    engine, admin, ran = get_engine(), _admin(), []
    armed = True

    def cut(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        nonlocal armed
        if armed and statement.lstrip().upper().startswith(statement_start):
            armed = False
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as connection:  # waits up to 5 s for the backend to be gone
                assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"),
                                          {"pid": pid}).scalar_one()
        elif armed:
            ran.append(statement)

    sa.event.listen(engine, "before_cursor_execute", cut)
    try:
        yield ran
    finally:
        sa.event.remove(engine, "before_cursor_execute", cut)
        admin.dispose()


@ON_POSTGRES
def test_a_connection_cut_between_two_writes_answers_503_and_keeps_neither(api):
    therapist = therapist_with_hours(api, "UTC", ALWAYS_OPEN)
    client = register(api, "client", "UTC")
    start = next_weekday_at(1, 10, "UTC")
    booked = book(api, client, therapist, start)
    assert booked.status_code == 201, booked.text
    series_id = booked.json()["id"]
    split = {"from": (start + timedelta(weeks=3)).isoformat(),
             "start": (start + timedelta(weeks=3, hours=1)).isoformat()}
    sessions_before = _count("SELECT count(*) FROM sessions")

    # "This and following" ends the old series (an UPDATE) and inserts its child: cut in between.
    with _cut_connection_before("INSERT INTO SERIES") as ran:
        response = api.post(f"{API}/series/{series_id}/split", headers=client.auth, json=split)
    assert any(s.lstrip().upper().startswith("UPDATE SERIES") for s in ran), ran  # the first write ran
    _assert_unavailable(response)

    assert _count("SELECT count(*) FROM series") == 1
    assert _count("SELECT count(*) FROM series WHERE id = :id AND status = 'active'"
                  " AND ends_before IS NULL", id=series_id) == 1
    assert _count("SELECT count(*) FROM sessions") == sessions_before

    again = api.post(f"{API}/series/{series_id}/split", headers=client.auth, json=split)
    assert again.status_code == 201, again.text
    assert _count("SELECT count(*) FROM series") == 2


def _raising(error: BaseException):
    def list_therapists():
        raise error
    return list_therapists


def _wrapped(cause: BaseException) -> RuntimeError:
    try:
        raise cause
    except BaseException as exc:
        try:
            raise RuntimeError("the calendar step failed") from exc
        except RuntimeError as wrapped:
            return wrapped


def _sa(kind: type[sa.exc.DBAPIError], driver_error: Exception, invalidated: bool = False):
    return kind("SELECT secret FROM users WHERE id = %(id)s", {"id": "x"}, driver_error,
                connection_invalidated=invalidated)


@pytest.mark.parametrize("error, status", [
    (_sa(sa.exc.OperationalError, psycopg.OperationalError("connection refused")), 503),
    (_sa(sa.exc.InterfaceError, psycopg.InterfaceError("the connection is closed")), 503),
    (_sa(sa.exc.DBAPIError, psycopg.DatabaseError("server closed the connection"), invalidated=True), 503),
    (sa.exc.TimeoutError("QueuePool limit of size 10 overflow 20 reached"), 503),
    (_wrapped(_sa(sa.exc.OperationalError, psycopg.errors.AdminShutdown("terminating connection"))), 503),
    (_sa(sa.exc.IntegrityError, psycopg.errors.UniqueViolation("duplicate key")), 500),
    (_sa(sa.exc.ProgrammingError, psycopg.errors.UndefinedColumn("no such column")), 500),
    (_wrapped(_sa(sa.exc.DataError, psycopg.errors.NumericValueOutOfRange("out of range"))), 500),
    (_sa(sa.exc.OperationalError, sqlite3.OperationalError("database is locked")), 503),
    (_sa(sa.exc.OperationalError, sqlite3.OperationalError("no such table: users")), 500),
], ids=["operational", "interface", "invalidated", "pool-timeout", "wrapped-cut",
        "integrity", "programming", "wrapped-data", "sqlite-locked", "sqlite-schema"])
def test_only_an_unreachable_database_answers_503(api, monkeypatch, error, status):
    from therabee.api.app import create_app
    from therabee.services import people

    therapist = register(api, "therapist", "UTC")
    monkeypatch.setattr(people, "list_therapists", _raising(error))
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = client.get(f"{API}/therapists", headers=therapist.auth)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "SELECT" not in response.text
    if status == 503:
        _assert_unavailable(response)
    else:
        assert "retry-after" not in response.headers
