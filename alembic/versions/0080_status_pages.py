"""status pages: pages, groups, components, public incidents and updates, subscribers, notifications

Revision ID: 0080_status_pages
Revises: 0001_core
Create Date: 2026-12-04 22:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from xinex.kit.rls import enable_tenant_rls, disable_tenant_rls
from sqlalchemy.dialects import postgresql

revision = '0080_status_pages'
down_revision = '0001_core'
branch_labels = ('status_pages',)
depends_on = None

TABLES = ('status_pages', 'status_page_groups', 'status_page_components', 'status_page_incidents',
          'status_page_incident_updates', 'status_page_subscribers', 'status_page_notifications')

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = xinex.kit.types.UTCDateTimeType(timezone=True)
Str = sqlmodel.sql.sqltypes.AutoString


def _base() -> list:
    return [
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.Column('tenant_id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    ]


def upgrade() -> None:
    op.create_table('status_pages', *_base(),
        sa.Column('name', Str(length=200), nullable=False),
        sa.Column('slug', Str(length=64), nullable=False),
        sa.Column('description', Str(length=2000), nullable=True),
        sa.Column('logo_url', Str(length=2000), nullable=True),
        sa.Column('brand_color', Str(length=7), nullable=False),
        sa.Column('time_zone', Str(length=64), nullable=False),
        sa.Column('visibility', Str(length=10), nullable=False),
        sa.Column('password_hash', Str(length=255), nullable=True),
        sa.Column('custom_domain', Str(length=253), nullable=True),
        sa.Column('show_uptime_bars', sa.Boolean(), nullable=False),
        sa.Column('show_response_times', sa.Boolean(), nullable=False),
        sa.Column('show_maintenance', sa.Boolean(), nullable=False),
        sa.Column('past_incident_days', sa.Integer(), nullable=False),
    )
    op.create_index('ix_status_pages_slug', 'status_pages', ['slug'], unique=True)
    op.create_index('ix_status_pages_tenant_id', 'status_pages', ['tenant_id'])
    op.create_table('status_page_groups', *_base(),
        sa.Column('page_id', sa.Uuid(), nullable=False),
        sa.Column('name', Str(length=200), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], ondelete='CASCADE'),
    )
    op.create_index('ix_status_page_groups_page_id', 'status_page_groups', ['page_id'])
    op.create_index('ix_status_page_groups_tenant_id', 'status_page_groups', ['tenant_id'])
    op.create_table('status_page_components', *_base(),
        sa.Column('page_id', sa.Uuid(), nullable=False),
        sa.Column('group_id', sa.Uuid(), nullable=True),
        sa.Column('key', Str(length=16), nullable=False),
        sa.Column('name', Str(length=200), nullable=False),
        sa.Column('description', Str(length=2000), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('source_type', Str(length=12), nullable=False),
        sa.Column('source_id', sa.Uuid(), nullable=True),
        sa.Column('status_override', Str(length=16), nullable=True),
        sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['group_id'], ['status_page_groups.id'], ondelete='SET NULL'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_status_page_components_page_id', 'status_page_components', ['page_id'])
    op.create_index('ix_status_page_components_source_id', 'status_page_components', ['source_id'])
    op.create_index('ix_status_page_components_tenant_id', 'status_page_components', ['tenant_id'])
    op.create_table('status_page_incidents', *_base(),
        sa.Column('page_id', sa.Uuid(), nullable=False),
        sa.Column('key', Str(length=16), nullable=False),
        sa.Column('title', Str(length=300), nullable=False),
        sa.Column('status', Str(length=16), nullable=False),
        sa.Column('impact', Str(length=10), nullable=False),
        sa.Column('affected', JSON, nullable=False),
        sa.Column('started_at', UTC, nullable=False),
        sa.Column('resolved_at', UTC, nullable=True),
        sa.Column('linked_incident_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], ondelete='CASCADE'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_status_page_incidents_page_started', 'status_page_incidents', ['page_id', 'started_at'])
    op.create_index('ix_status_page_incidents_tenant_id', 'status_page_incidents', ['tenant_id'])
    op.create_table('status_page_incident_updates', *_base(),
        sa.Column('incident_id', sa.Uuid(), nullable=False),
        sa.Column('status', Str(length=16), nullable=False),
        sa.Column('body', Str(length=10000), nullable=False),
        sa.Column('notify', sa.Boolean(), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['status_page_incidents.id'], ondelete='CASCADE'),
    )
    op.create_index('ix_status_page_incident_updates_incident_id', 'status_page_incident_updates', ['incident_id'])
    op.create_index('ix_status_page_incident_updates_tenant_id', 'status_page_incident_updates', ['tenant_id'])
    op.create_table('status_page_subscribers', *_base(),
        sa.Column('page_id', sa.Uuid(), nullable=False),
        sa.Column('key', Str(length=24), nullable=False),
        sa.Column('kind', Str(length=10), nullable=False),
        sa.Column('target', Str(length=2000), nullable=False),
        sa.Column('secret', Str(length=100), nullable=True),
        sa.Column('confirmed_at', UTC, nullable=True),
        sa.Column('confirm_sent_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['page_id'], ['status_pages.id'], ondelete='CASCADE'),
        sa.UniqueConstraint('page_id', 'kind', 'target'),
    )
    op.create_index('ix_status_page_subscribers_key', 'status_page_subscribers', ['key'], unique=True)
    op.create_index('ix_status_page_subscribers_page_id', 'status_page_subscribers', ['page_id'])
    op.create_index('ix_status_page_subscribers_tenant_id', 'status_page_subscribers', ['tenant_id'])
    op.create_table('status_page_notifications', *_base(),
        sa.Column('update_id', sa.Uuid(), nullable=False),
        sa.Column('subscriber_id', sa.Uuid(), nullable=False),
        sa.Column('status', Str(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', Str(length=500), nullable=True),
        sa.ForeignKeyConstraint(['update_id'], ['status_page_incident_updates.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['status_page_subscribers.id'], ondelete='CASCADE'),
        sa.UniqueConstraint('update_id', 'subscriber_id'),
    )
    op.create_index('ix_status_page_notifications_tenant_id', 'status_page_notifications', ['tenant_id'])
    for table in TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(op, table)
        op.drop_table(table)
