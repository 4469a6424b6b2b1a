"""stats_counts: the regulator statistics' counts added up ahead, kept on submit and consent changes

Revision ID: b3d5f7a9c2e4
Revises: d3b7f1a9c2e4
Create Date: 2026-12-05 21:00:00.000000+00:00

The table is filled from the kept results here; `flask rescore` writes it again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3d5f7a9c2e4"
down_revision: str | None = "d3b7f1a9c2e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_counts",
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("figure", sa.String(length=16), nullable=False),
        sa.Column("k1", sa.String(length=64), nullable=False),
        sa.Column("k2", sa.String(length=64), nullable=False),
        sa.Column("k3", sa.String(length=64), nullable=False),
        sa.Column("k4", sa.String(length=32), nullable=False),
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=8), nullable=False),
        sa.Column("firms", sa.Integer(), nullable=False),
        sa.Column("assessments", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "region", "figure", "k1", "k2", "k3", "k4", "dim", "value", name=op.f("pk_stats_counts")
        ),
    )
    # the counts of what is kept already (the same statement as `webapp.stats.counts.rebuild`)
    from webapp.stats import counts

    bind = op.get_bind()
    bind.execute(sa.insert(counts.C).from_select(list(counts.COLUMNS), counts._cells()))


def downgrade() -> None:
    op.drop_table("stats_counts")
