"""reconciliation: what was last done at the provider and by mail, for the periodic sweep

DESIGN.md rule 7: each periodic run compares what the database says should be with what
was done, and queues the difference. For that the rows keep what was done:

- sessions.meeting_start, meeting_end: the times last sent to the video provider (a
  session whose start or end differs gets `meetings.update`);
- sessions.meeting_swept_at: when the sweep last queued a meeting job for the row (it
  waits for that job's retries before queuing another);
- time_off.notices_sent_at: when its notices went out (unsent ones are queued again).

Two partial indexes hold exactly the rows the sweep looks for, so a tick reads only
those: sessions whose meeting is out of step (keyed by end: only upcoming ones are read),
and time off whose notices are unsent. The sessions predicate is
`db.models.MEETING_OUT_OF_STEP`, with its constants inline so that PostgreSQL's generic
plans and SQLite can match the sweep's query to the index.

Existing rows are taken as done: created meetings as sent at their session's times,
existing time off as told (re-sending every old notice, or a PATCH per upcoming meeting
against the provider's daily limit, would be worse than trusting them).

Revision ID: 0007
Revises: 0006
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_OUT_OF_STEP = ("(status IN ('scheduled', 'in_progress') AND meeting_state IN ('none', 'creating', 'deleted')"
                " OR status IN ('cancelled', 'hidden', 'late_cancelled') AND meeting_state IN ('creating', 'created')"
                " OR meeting_state = 'created' AND (meeting_start IS NULL OR meeting_end IS NULL"
                " OR meeting_start <> start OR meeting_end <> \"end\"))")


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.add_column(sa.Column("meeting_start", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("meeting_end", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("meeting_swept_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("time_off") as batch_op:
        batch_op.add_column(sa.Column("notices_sent_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE sessions SET meeting_start = start, meeting_end = \"end\" WHERE meeting_state = 'created'")
    op.execute("UPDATE time_off SET notices_sent_at = created_at")
    op.create_index("ix_sessions_meeting_out_of_step", "sessions", ["end"],
                    postgresql_where=sa.text(_OUT_OF_STEP), sqlite_where=sa.text(_OUT_OF_STEP))
    op.create_index("ix_time_off_notices_unsent", "time_off", ["end"],
                    postgresql_where=sa.text("notices_sent_at IS NULL"),
                    sqlite_where=sa.text("notices_sent_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_time_off_notices_unsent", table_name="time_off")
    op.drop_index("ix_sessions_meeting_out_of_step", table_name="sessions")
    with op.batch_alter_table("time_off") as batch_op:
        batch_op.drop_column("notices_sent_at")
    with op.batch_alter_table("sessions") as batch_op:
        batch_op.drop_column("meeting_swept_at")
        batch_op.drop_column("meeting_end")
        batch_op.drop_column("meeting_start")
