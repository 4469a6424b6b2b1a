"""invitations to regulator agencies: a platform admin invites an agency's first member, its owner the others

Revision ID: 8a4c2e6f9b13
Revises: 5d2e8a1c4f70
Create Date: 2026-12-05 19:15:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8a4c2e6f9b13'
down_revision: str | None = '5d2e8a1c4f70'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THREE = (
    "(CASE WHEN firm_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN consultancy_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN regulator_id IS NULL THEN 0 ELSE 1 END) = 1"
)
TWO = "(CASE WHEN firm_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN consultancy_id IS NULL THEN 0 ELSE 1 END) = 1"


def upgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('regulator_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_invitations_regulator_id'), ['regulator_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_invitations_regulator_id_regulators'), 'regulators', ['regulator_id'], ['id'],
            ondelete='CASCADE',
        )
        batch_op.drop_constraint(batch_op.f('ck_invitations_one_org'), type_='check')
        batch_op.create_check_constraint('one_org', THREE)


def downgrade() -> None:
    op.execute("DELETE FROM invitations WHERE regulator_id IS NOT NULL")
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_invitations_one_org'), type_='check')
        batch_op.create_check_constraint('one_org', TWO)
        batch_op.drop_constraint(batch_op.f('fk_invitations_regulator_id_regulators'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_invitations_regulator_id'))
        batch_op.drop_column('regulator_id')
