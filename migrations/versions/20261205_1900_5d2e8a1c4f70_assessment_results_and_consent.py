"""assessment results kept for the regulator statistics; a firm's consent to be counted in them

Revision ID: 5d2e8a1c4f70
Revises: a71c3e9d5f20
Create Date: 2026-12-05 19:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2e8a1c4f70"
down_revision: str | None = "a71c3e9d5f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("firms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("share_statistics", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "assessment_results",
        sa.Column("assessment_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("framework_id", sa.String(length=64), nullable=False),
        sa.Column("framework_version", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("percent", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("city_code", sa.String(length=6), nullable=True),
        sa.Column("industry_section", sa.String(length=1), nullable=True),
        sa.Column("size_class", sa.String(length=8), nullable=True),
        sa.Column("above_scale", sa.Boolean(), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_assessment_results_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_assessment_results_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessment_results")),
    )
    with op.batch_alter_table("assessment_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessment_results_firm_id"), ["firm_id"], unique=False)
        batch_op.create_index("ix_assessment_results_latest_region", ["latest", "region_code"], unique=False)
        batch_op.create_index(
            "ix_assessment_results_quarter_region", ["quarter", "region_code"], unique=False
        )
    op.create_table(
        "assessment_result_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("percent", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("firm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment_results.assessment_id"],
            name=op.f("fk_assessment_result_lines_assessment_id_assessment_results"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["firms.id"],
            name=op.f("fk_assessment_result_lines_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_result_lines")),
    )
    with op.batch_alter_table("assessment_result_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_result_lines_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assessment_result_lines_firm_id"), ["firm_id"], unique=False)
        batch_op.create_index("ix_assessment_result_lines_kind_key", ["kind", "key", "status"], unique=False)


def downgrade() -> None:
    op.drop_table("assessment_result_lines")
    op.drop_table("assessment_results")
    with op.batch_alter_table("firms", schema=None) as batch_op:
        batch_op.drop_column("share_statistics")
