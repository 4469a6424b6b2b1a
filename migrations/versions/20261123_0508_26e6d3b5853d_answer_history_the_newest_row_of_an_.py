"""answer history: the newest row of an assessment in one index lookup

Revision ID: 26e6d3b5853d
Revises: 01b882fcce32
Create Date: 2026-11-23 05:08:45.325654+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import webapp.db

revision: str = '26e6d3b5853d'
down_revision: str | None = '01b882fcce32'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the new index first: it serves every query the old one did
    op.create_index('ix_answer_history_assessment_id_id', 'answer_history', ['assessment_id', 'id'], unique=False)
    op.drop_index(op.f('ix_answer_history_assessment_id'), table_name='answer_history')


def downgrade() -> None:
    op.create_index(op.f('ix_answer_history_assessment_id'), 'answer_history', ['assessment_id'], unique=False)
    op.drop_index('ix_answer_history_assessment_id_id', table_name='answer_history')
