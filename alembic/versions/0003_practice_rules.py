"""practice rules: time off and per-therapist booking settings

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "time_off",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("therapist_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_time_off_therapist_start", "time_off", ["therapist_id", "start"])
    op.create_table(
        "practice_rules",
        sa.Column("therapist_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_hours", sa.Integer(), nullable=False),
        sa.Column("booking_window_weeks", sa.Integer(), nullable=False),
        sa.Column("holidays_country", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["therapist_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("therapist_id"),
    )


def downgrade() -> None:
    op.drop_table("practice_rules")
    op.drop_index("ix_time_off_therapist_start", table_name="time_off")
    op.drop_table("time_off")
