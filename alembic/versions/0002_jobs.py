"""jobs: meeting claims, reminders, webhook de-duplication

Revision ID: 0002
Revises: 0001
Sessions get a claim lease for meeting creation and one timestamp per reminder;
`webhook_deliveries` remembers accepted Zoom events so a redelivery changes nothing.
Indexes: sessions by meeting id (webhooks) and by status + start (reminders).

Create Date: 2026-11-25 09:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('webhook_deliveries',
    sa.Column('delivery_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('delivery_key')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_received_at'), ['received_at'], unique=False)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_24h_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminded_1h_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_sessions_meeting_id', ['meeting_id'], unique=False)
        batch_op.create_index('ix_sessions_status_start', ['status', 'start'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_status_start')
        batch_op.drop_index('ix_sessions_meeting_id')
        batch_op.drop_column('reminded_1h_at')
        batch_op.drop_column('reminded_24h_at')
        batch_op.drop_column('meeting_claimed_until')

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_received_at'))

    op.drop_table('webhook_deliveries')
