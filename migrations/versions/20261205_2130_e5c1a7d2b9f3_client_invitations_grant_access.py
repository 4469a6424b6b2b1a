"""client invitations and the grant's access: a consultancy invites a firm by email (the owner chooses
read or edit access), or creates a client firm and hands it over

Revision ID: e5c1a7d2b9f3
Revises: d2f6a8c4e1b7
Create Date: 2026-12-05 21:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e5c1a7d2b9f3'
down_revision: str | None = "d2f6a8c4e1b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('consultancy_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access', sa.String(length=8), nullable=False, server_default='edit'))
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('firm_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM invitations WHERE role = 'client'")
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('firm_name')
    with op.batch_alter_table('consultancy_grants', schema=None) as batch_op:
        batch_op.drop_column('access')
