"""hidden sessions: a session a pause or time away hides takes no time

Until now a pause, time off or a public holiday *cancelled* the sessions already made on
its days, so they stayed cancelled when the pause or time off was removed (DESIGN.md: its
occurrences come back). Such a session is now "hidden": no meeting, no time taken, and it
is scheduled again when nothing hides it any more (the horizon job or opening it).

The sessions' exclusion constraint must not count hidden rows, or a hidden session would
keep holding its time. Sessions cancelled this way before are left as they are: nothing
tells them from a user's cancellation.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ADD = ("ALTER TABLE sessions ADD CONSTRAINT ex_sessions_therapist_overlap "
        "EXCLUDE USING gist (therapist_id WITH =, tstzrange(start, \"end\") WITH &&) "
        "WHERE (status NOT IN ({statuses}))")


def _replace(statuses: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no exclusion constraint: the service layer's checks hold there
    op.execute("ALTER TABLE sessions DROP CONSTRAINT ex_sessions_therapist_overlap")
    op.execute(_ADD.format(statuses=statuses))


def upgrade() -> None:
    _replace("'cancelled', 'late_cancelled', 'hidden'")


def downgrade() -> None:
    op.execute("UPDATE sessions SET status = 'cancelled' WHERE status = 'hidden'")
    _replace("'cancelled', 'late_cancelled'")
