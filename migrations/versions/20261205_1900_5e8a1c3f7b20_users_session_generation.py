"""users: the session generation (a sign-out ends every session of the account, server-side)

Revision ID: 5e8a1c3f7b20
Revises: 3b9f2c7d1e55
Create Date: 2026-12-05 19:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e8a1c3f7b20'
down_revision: str | None = 'bc155dcdd414'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
