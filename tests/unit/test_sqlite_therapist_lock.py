"""The default set-up's therapist lock on SQLite: it takes the database's write lock at
once, so a second writer waits, and writes no row (services/locks.py)."""

import sqlite3

import sqlalchemy as sa
from sqlmodel import Session

from therabee.services.locks import lock_therapist


def test_the_sqlite_lock_blocks_another_writer_and_writes_nothing(tmp_path):
    path = tmp_path / "lock.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE users (id TEXT PRIMARY KEY)"))
        connection.execute(sa.text("INSERT INTO users VALUES ('t1')"))
    with Session(engine) as db:
        raw = db.connection().connection.dbapi_connection
        changes = raw.total_changes
        lock_therapist(db, "t1")
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("INSERT INTO users VALUES ('t2')")
            blocked = False
        except sqlite3.OperationalError as exc:
            blocked = "locked" in str(exc)
        finally:
            other.close()
        assert raw.total_changes == changes  # the lock changed no row
        db.rollback()
    assert blocked
    engine.dispose()
