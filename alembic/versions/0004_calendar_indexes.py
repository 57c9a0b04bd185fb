"""exceptions by new start: find occurrences moved into a window wherever their rule starts

The loader picks a series for a window also when an exception moved one of its
occurrences there, and the horizon job looks for occurrences moved into the horizon:
both find exceptions by their new start.

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_exceptions_new_start", "exceptions", ["new_start"])


def downgrade() -> None:
    op.drop_index("ix_exceptions_new_start", table_name="exceptions")
