"""status pages: durable subscriber deliveries (retries with backoff over about a day, a lease per attempt)
and subscribers disabled by their receiver (410 Gone)

Revision ID: 0081_status_page_deliveries
Revises: 0080_status_pages
Create Date: 2026-12-05 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types

revision = '0081_status_page_deliveries'
down_revision = '0080_status_pages'
branch_labels = None
depends_on = None

UTC = xinex.kit.types.UTCDateTimeType(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('status_page_notifications') as batch:
        batch.add_column(sa.Column('next_attempt_at', UTC, nullable=True))
        batch.add_column(sa.Column('lease_until', UTC, nullable=True))
        batch.add_column(sa.Column('last_attempt_at', UTC, nullable=True))
    op.create_index('ix_status_page_notifications_due', 'status_page_notifications', ['status', 'next_attempt_at'])
    with op.batch_alter_table('status_page_subscribers') as batch:
        batch.add_column(sa.Column('disabled_at', UTC, nullable=True))
        batch.add_column(sa.Column('disabled_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('status_page_subscribers') as batch:
        batch.drop_column('disabled_reason')
        batch.drop_column('disabled_at')
    op.drop_index('ix_status_page_notifications_due', table_name='status_page_notifications')
    with op.batch_alter_table('status_page_notifications') as batch:
        batch.drop_column('last_attempt_at')
        batch.drop_column('lease_until')
        batch.drop_column('next_attempt_at')
