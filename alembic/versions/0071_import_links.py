"""import_links: what an import from PagerDuty made of each source object (re-runs update it)

Revision ID: 0071_import_links
Revises: 0070_integrations
Create Date: 2026-12-04 23:05:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from xinex.kit.rls import enable_tenant_rls, disable_tenant_rls

revision = '0071_import_links'
down_revision = '0070_integrations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_links',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('external_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('object_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_import_links_tenant_id'), 'import_links', ['tenant_id'], unique=False)
    op.create_index('uq_import_links_external', 'import_links',
                    ['tenant_id', 'source', 'external_type', 'external_id'], unique=True)
    enable_tenant_rls(op, 'import_links')


def downgrade() -> None:
    disable_tenant_rls(op, 'import_links')
    op.drop_index('uq_import_links_external', table_name='import_links')
    op.drop_index(op.f('ix_import_links_tenant_id'), table_name='import_links')
    op.drop_table('import_links')
