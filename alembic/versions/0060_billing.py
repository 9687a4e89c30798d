"""billing: Stripe accounts, stored Stripe events, invoices; paused_reason on monitors and heartbeats

Revision ID: 0060_billing
Revises: 0001_core (depends on 0021_monitors and 0022_heartbeat_notify_late for paused_reason)
Create Date: 2026-12-04 23:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from xinex.kit.rls import enable_tenant_rls, disable_tenant_rls
from sqlalchemy.dialects import postgresql

revision = '0060_billing'
down_revision = '0001_core'
branch_labels = ('billing',)
depends_on = ('0021_monitors', '0022_heartbeat_notify_late')

TENANT_TABLES = ('billing_accounts', 'billing_invoices')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = xinex.kit.types.UTCDateTimeType(timezone=True)
S = sqlmodel.sql.sqltypes.AutoString


def _entity() -> list:
    return [sa.Column('id', sa.Uuid(), nullable=False), sa.Column('created_at', UTC, nullable=False),
            sa.Column('updated_at', UTC, nullable=False)]


def upgrade() -> None:
    op.create_table('billing_accounts', *_entity(),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('stripe_customer_id', S(length=255), nullable=True),
    sa.Column('stripe_subscription_id', S(length=255), nullable=True),
    sa.Column('status', S(length=30), nullable=False),
    sa.Column('paid_tier', S(length=20), nullable=True),
    sa.Column('interval', S(length=10), nullable=True),
    sa.Column('currency', S(length=3), nullable=True),
    sa.Column('current_period_start', UTC, nullable=True),
    sa.Column('current_period_end', UTC, nullable=True),
    sa.Column('cancel_at_period_end', sa.Boolean(), nullable=False),
    sa.Column('scheduled_tier', S(length=20), nullable=True),
    sa.Column('scheduled_at', UTC, nullable=True),
    sa.Column('stripe_schedule_id', S(length=255), nullable=True),
    sa.Column('past_due_since', UTC, nullable=True),
    sa.Column('grace_until', UTC, nullable=True),
    sa.Column('dunning_mailed_at', UTC, nullable=True),
    sa.Column('tax_country', S(length=2), nullable=True),
    sa.Column('tax_id', S(length=64), nullable=True),
    sa.Column('tax_id_type', S(length=20), nullable=True),
    sa.Column('tax_id_verification', S(length=20), nullable=True),
    sa.Column('stripe_tax_id_id', S(length=255), nullable=True),
    sa.Column('sso_enforcement_suspended', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id'),
    )
    op.create_index(op.f('ix_billing_accounts_tenant_id'), 'billing_accounts', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_billing_accounts_stripe_customer_id'), 'billing_accounts', ['stripe_customer_id'],
                    unique=True)
    op.create_index(op.f('ix_billing_accounts_stripe_subscription_id'), 'billing_accounts',
                    ['stripe_subscription_id'], unique=False)

    op.create_table('stripe_events', *_entity(),
    sa.Column('event_id', S(length=255), nullable=False),
    sa.Column('type', S(length=100), nullable=False),
    sa.Column('created', sa.BigInteger(), nullable=False),
    sa.Column('livemode', sa.Boolean(), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('received_at', UTC, nullable=False),
    sa.Column('processed_at', UTC, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=True),
    sa.Column('outcome', S(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id'),
    )
    op.create_index('ix_stripe_events_unprocessed', 'stripe_events', ['processed_at', 'received_at'], unique=False)

    op.create_table('billing_invoices', *_entity(),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('stripe_invoice_id', S(length=255), nullable=False),
    sa.Column('number', S(length=100), nullable=True),
    sa.Column('status', S(length=20), nullable=False),
    sa.Column('amount_due', sa.Integer(), nullable=False),
    sa.Column('amount_paid', sa.Integer(), nullable=False),
    sa.Column('currency', S(length=3), nullable=False),
    sa.Column('period_start', UTC, nullable=True),
    sa.Column('period_end', UTC, nullable=True),
    sa.Column('hosted_invoice_url', S(length=2000), nullable=True),
    sa.Column('invoice_pdf', S(length=2000), nullable=True),
    sa.Column('stripe_created', sa.BigInteger(), nullable=False),
    sa.Column('event_created', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stripe_invoice_id'),
    )
    op.create_index(op.f('ix_billing_invoices_tenant_id'), 'billing_invoices', ['tenant_id'], unique=False)
    op.create_index('ix_billing_invoices_tenant_created', 'billing_invoices', ['tenant_id', 'stripe_created'],
                    unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(op, table)

    with op.batch_alter_table('monitors') as batch:
        batch.add_column(sa.Column('paused_reason', S(length=20), nullable=True))
    with op.batch_alter_table('heartbeats') as batch:
        batch.add_column(sa.Column('paused_reason', S(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('heartbeats') as batch:
        batch.drop_column('paused_reason')
    with op.batch_alter_table('monitors') as batch:
        batch.drop_column('paused_reason')
    for table in TENANT_TABLES:
        disable_tenant_rls(op, table)
    op.drop_table('billing_invoices')
    op.drop_table('stripe_events')
    op.drop_table('billing_accounts')
