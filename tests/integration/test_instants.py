"""Instants in the database: aware UTC in and out on PostgreSQL and SQLite, naive ones refused.

Runs on both (`make test-sqlite` for SQLite): the default set-up once crashed on a naive
datetime that only SQLite hands back.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

# 10:00 in Berlin on 1 July 2030 is summer time (UTC+2): 08:00 UTC
BERLIN_TEN = datetime(2030, 7, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
AS_UTC = datetime(2030, 7, 1, 8, 0, tzinfo=timezone.utc)
NAIVE = datetime(2030, 7, 1, 8, 0)


def _add_user(created_at: datetime) -> str:
    from therabee.db.engine import unit_of_work
    from therabee.db.models import User

    with unit_of_work() as db:
        user = User(email=f"{uuid.uuid4().hex}@example.test", name="Instant", role="therapist",
                    timezone="UTC", password_hash="-", created_at=created_at)
        db.add(user)
    return user.id


def _is_aware_utc(value: datetime) -> bool:
    return value == AS_UTC and value.tzinfo is timezone.utc


def test_a_naive_datetime_is_refused_when_written_or_compared(clean_db):
    from sqlmodel import select

    from therabee.db.engine import get_engine, read_only
    from therabee.db.models import User

    with pytest.raises(sa.exc.StatementError, match="naive datetime") as written:
        _add_user(NAIVE)
    assert isinstance(written.value.orig, ValueError)
    with read_only() as db, pytest.raises(sa.exc.StatementError, match="naive datetime") as compared:
        db.exec(select(User).where(User.created_at < NAIVE)).all()
    assert isinstance(compared.value.orig, ValueError)
    with get_engine().connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM users")).scalar_one() == 0


def test_an_instant_is_stored_in_utc_and_read_back_aware_utc_on_every_path(clean_db):
    from sqlmodel import select

    from reliability.invariants import _rows
    from therabee.db.engine import get_engine, read_only
    from therabee.db.models import User

    user_id = _add_user(BERLIN_TEN)

    with read_only() as db:
        assert _is_aware_utc(db.get(User, user_id).created_at)
        assert _is_aware_utc(db.exec(select(User.created_at)).one())
        assert _is_aware_utc(db.exec(select(sa.func.max(User.created_at))).one())
    with get_engine().connect() as connection:
        # the reliability checker's plain SQL types the instant columns it reads
        [(_, start)] = _rows(connection, 'SELECT id, created_at AS "start" FROM users')
        assert _is_aware_utc(start)
        raw = connection.execute(sa.text("SELECT created_at FROM users")).scalar_one()
    if get_engine().dialect.name == "sqlite":
        assert raw == "2030-07-01 08:00:00.000000"  # the UTC wall-clock time, not Berlin's 10:00
    else:
        assert raw == AS_UTC
