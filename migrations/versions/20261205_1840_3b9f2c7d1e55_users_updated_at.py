"""users: when a user's name, language or account last changed (a page naming them is out of date)

Revision ID: 3b9f2c7d1e55
Revises: 7c1e5a9d2b40
Create Date: 2026-12-05 18:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import webapp.db

revision: str = '3b9f2c7d1e55'
down_revision: str | None = '7c1e5a9d2b40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'updated_at',
                webapp.db.UTCDateTime(timezone=True),
                server_default=sa.text('CURRENT_TIMESTAMP'),
                nullable=False,
            )
        )
        batch_op.create_index(batch_op.f('ix_users_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_updated_at'))
        batch_op.drop_column('updated_at')
