"""audit_events: the audit log, append-only (the database refuses UPDATE, DELETE and TRUNCATE)

Revision ID: a7d3e5f9c1b2
Revises: 5e8a1c3f7b20
Create Date: 2026-12-05 19:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import webapp.db

revision: str = 'a7d3e5f9c1b2'
down_revision: str | None = '5e8a1c3f7b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = 'audit_events is append-only'


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_email', sa.String(length=254), nullable=True),
    sa.Column('via', sa.String(length=8), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('firm_id', sa.Integer(), nullable=True),
    sa.Column('org_kind', sa.String(length=16), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('target_type', sa.String(length=24), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('target_label', sa.String(length=254), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_firm_id_id', ['firm_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_events_org_kind_org_id', ['org_kind', 'org_id'], unique=False)

    # Append-only in the database itself, whatever client writes to it.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP;
            END
            $$
        """)
        op.execute(
            'CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events'
            ' FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()'
        )
        op.execute(
            'CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events'
            ' FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()'
        )
    elif op.get_bind().dialect.name == 'sqlite':
        for what in ('UPDATE', 'DELETE'):
            op.execute(
                f'CREATE TRIGGER audit_events_no_{what.lower()} BEFORE {what} ON audit_events'
                f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {what} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER audit_events_no_truncate ON audit_events')
        op.execute('DROP TRIGGER audit_events_no_update_or_delete ON audit_events')
        op.execute('DROP FUNCTION audit_events_append_only()')
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER audit_events_no_update')
        op.execute('DROP TRIGGER audit_events_no_delete')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_org_kind_org_id')
        batch_op.drop_index('ix_audit_events_firm_id_id')
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
