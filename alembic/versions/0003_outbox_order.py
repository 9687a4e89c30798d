"""outbox: find the unprocessed events of one dedup key fast (per-key order when claiming)

Revision ID: 0003_outbox_order
Revises: 0002_events
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_outbox_order'
down_revision = '0002_events'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_unprocessed_key', 'outbox_events', ['tenant_id', 'dedup_key', 'created_at'],
                    unique=False, postgresql_where=sa.text('processed_at IS NULL'),
                    sqlite_where=sa.text('processed_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_outbox_unprocessed_key', table_name='outbox_events')
