"""integrations: inbound alert sources with a hashed secret key

Revision ID: 0070_integrations
Revises: 0001_core
Create Date: 2026-12-04 22:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from xinex.kit.rls import enable_tenant_rls, disable_tenant_rls
from sqlalchemy.dialects import postgresql

revision = '0070_integrations'
down_revision = '0001_core'
branch_labels = ('integrations',)
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('integrations',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_hint', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('key_rotated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('tags', JSON, nullable=False),
    sa.Column('default_severity', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('severity_map', JSON, nullable=False),
    sa.Column('mapping', JSON, nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=True),
    sa.Column('last_event_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_integrations_tenant_id'), 'integrations', ['tenant_id'], unique=False)
    op.create_index('uq_integrations_key_hash', 'integrations', ['key_hash'], unique=True)
    enable_tenant_rls(op, 'integrations')


def downgrade() -> None:
    disable_tenant_rls(op, 'integrations')
    op.drop_index('uq_integrations_key_hash', table_name='integrations')
    op.drop_index(op.f('ix_integrations_tenant_id'), table_name='integrations')
    op.drop_table('integrations')
