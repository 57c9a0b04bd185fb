"""foundation

Revision ID: 0001
Revises: 
On PostgreSQL an exclusion constraint (btree_gist) forbids overlapping active
sessions of one therapist; SQLite relies on the service layer's checks.

Create Date: 2026-11-24 07:58:28.881615

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('users',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('availability',
    sa.Column('therapist_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('weekly', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('therapist_id')
    )
    op.create_table('feed_tokens',
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id'),
    sa.UniqueConstraint('token')
    )
    op.create_table('series',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('therapist_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('rrule', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('sessions_limit', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('ends_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cursor_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cursor_index', sa.Integer(), nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['series.id'], ),
    sa.ForeignKeyConstraint(['therapist_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_series_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_series_next_due_at'), ['next_due_at'], unique=False)
        batch_op.create_index('ix_series_therapist_status', ['therapist_id', 'status'], unique=False)

    op.create_table('exceptions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('series_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('original_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('new_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('new_duration_minutes', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('series_id', 'original_start', name='uq_exception_identity')
    )
    op.create_table('pauses',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('series_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('until_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pauses_series_id'), ['series_id'], unique=False)

    op.create_table('sessions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('series_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('therapist_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('original_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('meeting_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('meeting_marker', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('meeting_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('join_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['series_id'], ['series.id'], ),
    sa.ForeignKeyConstraint(['therapist_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('series_id', 'original_start', name='uq_session_identity')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index('ix_sessions_therapist_start', ['therapist_id', 'start'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE sessions ADD CONSTRAINT ex_sessions_therapist_overlap "
            "EXCLUDE USING gist (therapist_id WITH =, tstzrange(start, \"end\") WITH &&) "
            "WHERE (status NOT IN ('cancelled', 'late_cancelled'))"
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_therapist_start')

    op.drop_table('sessions')
    with op.batch_alter_table('pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pauses_series_id'))

    op.drop_table('pauses')
    op.drop_table('exceptions')
    with op.batch_alter_table('series', schema=None) as batch_op:
        batch_op.drop_index('ix_series_therapist_status')
        batch_op.drop_index(batch_op.f('ix_series_next_due_at'))
        batch_op.drop_index(batch_op.f('ix_series_client_id'))

    op.drop_table('series')
    op.drop_table('feed_tokens')
    op.drop_table('availability')
    op.drop_table('users')
