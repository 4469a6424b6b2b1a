"""audit_events: rows older than the retention floor may be deleted by `flask audit prune`, nothing else

The log stays append-only: UPDATE and TRUNCATE are refused, and so is DELETE, except of a row older
than the floor every retention must keep (AUDIT_MIN_RETENTION_DAYS, 180 days: the six months of
network logs China's Cybersecurity Law asks for). On PostgreSQL the deleting transaction must also
say it prunes (`set_config('qready.audit_prune', 'on', true)`, which only `flask audit prune` does),
so a stray DELETE of old rows is refused too; SQLite's triggers cannot read such a setting.

Revision ID: d2f6a8c4e1b7
Revises: b3d5f7a9c2e4
Create Date: 2026-12-05 20:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'd2f6a8c4e1b7'
down_revision: str | None = "b3d5f7a9c2e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = 'audit_events is append-only'
FLOOR_DAYS = 180  # webapp.config.AUDIT_MIN_RETENTION_DAYS


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE'
                   AND current_setting('qready.audit_prune', true) = 'on'
                   AND OLD.created_at < now() - interval '{FLOOR_DAYS} days' THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP;
            END
            $$
        """)
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER audit_events_no_delete')
        op.execute(
            'CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events'
            f" WHEN OLD.created_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', '-{FLOOR_DAYS} days')"
            f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP;
            END
            $$
        """)
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER audit_events_no_delete')
        op.execute(
            'CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events'
            f" BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE refused'); END"
        )
