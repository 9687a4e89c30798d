"""heartbeats.notify_late: page when the expected ping is late, not only when grace runs out

Revision ID: 0022_heartbeat_notify_late
Revises: 0020_heartbeats
Create Date: 2026-12-04 19:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0022_heartbeat_notify_late'
down_revision = '0020_heartbeats'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('heartbeats', sa.Column('notify_late', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('heartbeats', 'notify_late')
