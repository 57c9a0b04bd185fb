"""Per-therapist serialisation of check-then-write, so two bookings cannot both pass."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session as DbSession

from therabee.db.engine import is_postgres

def lock_therapist(db: DbSession, therapist_id: str) -> None:
    """PostgreSQL: an advisory lock held until the transaction ends.

    SQLite (the one-process default) has one writer at a time: an update that matches no
    row takes the write lock at once (instead of at the first insert) and writes nothing.
    """
    if is_postgres(db):
        db.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                   {"key": f"therapist:{therapist_id}"})
    else:
        db.execute(sa.text("UPDATE users SET id = id WHERE id = :id AND 0"), {"id": therapist_id})
