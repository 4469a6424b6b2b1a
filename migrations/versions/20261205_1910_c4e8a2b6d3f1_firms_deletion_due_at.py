"""firms: deletion_due_at (an owner deleted the firm: it goes at this time unless restored)

Revision ID: c4e8a2b6d3f1
Revises: a7d3e5f9c1b2
Create Date: 2026-12-05 19:10:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import webapp.db

revision: str = 'c4e8a2b6d3f1'
down_revision: str | None = 'a7d3e5f9c1b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('firms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_due_at', webapp.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_firms_deletion_due_at'), ['deletion_due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('firms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firms_deletion_due_at'))
        batch_op.drop_column('deletion_due_at')
