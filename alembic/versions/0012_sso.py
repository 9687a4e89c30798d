"""SAML SSO: per-tenant IdP config, AuthnRequest store, assertion replay store, linked identities

Revision ID: 0012_sso
Revises: 0001_core
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from xinex.kit.rls import enable_tenant_rls, disable_tenant_rls
from sqlalchemy.dialects import postgresql

revision = '0012_sso'
down_revision = '0001_core'
branch_labels = ('sso',)
depends_on = None


def upgrade() -> None:
    op.create_table('saml_assertions_seen',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('assertion_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('expires_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'assertion_id', name='uq_saml_assertions_seen_id')
    )
    op.create_index(op.f('ix_saml_assertions_seen_expires_at'), 'saml_assertions_seen', ['expires_at'], unique=False)
    op.create_index(op.f('ix_saml_assertions_seen_tenant_id'), 'saml_assertions_seen', ['tenant_id'], unique=False)
    op.create_table('saml_configs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('idp_entity_id', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('idp_sso_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('idp_slo_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('idp_x509_cert', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
    sa.Column('idp_cert_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('default_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('allowed_domains', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', name='uq_saml_configs_tenant')
    )
    op.create_index(op.f('ix_saml_configs_tenant_id'), 'saml_configs', ['tenant_id'], unique=False)
    op.create_table('saml_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('expires_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('used_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'request_id', name='uq_saml_requests_request')
    )
    op.create_index(op.f('ix_saml_requests_expires_at'), 'saml_requests', ['expires_at'], unique=False)
    op.create_index(op.f('ix_saml_requests_tenant_id'), 'saml_requests', ['tenant_id'], unique=False)
    op.create_table('sso_identities',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('last_login_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'issuer', 'subject', name='uq_sso_identities_subject')
    )
    op.create_index(op.f('ix_sso_identities_tenant_id'), 'sso_identities', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_sso_identities_user_id'), 'sso_identities', ['user_id'], unique=False)
    enable_tenant_rls(op, 'saml_assertions_seen')
    enable_tenant_rls(op, 'saml_configs')
    enable_tenant_rls(op, 'saml_requests')
    enable_tenant_rls(op, 'sso_identities')


def downgrade() -> None:
    disable_tenant_rls(op, 'saml_assertions_seen')
    disable_tenant_rls(op, 'saml_configs')
    disable_tenant_rls(op, 'saml_requests')
    disable_tenant_rls(op, 'sso_identities')
    op.drop_index(op.f('ix_sso_identities_user_id'), table_name='sso_identities')
    op.drop_index(op.f('ix_sso_identities_tenant_id'), table_name='sso_identities')
    op.drop_table('sso_identities')
    op.drop_index(op.f('ix_saml_requests_tenant_id'), table_name='saml_requests')
    op.drop_index(op.f('ix_saml_requests_expires_at'), table_name='saml_requests')
    op.drop_table('saml_requests')
    op.drop_index(op.f('ix_saml_configs_tenant_id'), table_name='saml_configs')
    op.drop_table('saml_configs')
    op.drop_index(op.f('ix_saml_assertions_seen_tenant_id'), table_name='saml_assertions_seen')
    op.drop_index(op.f('ix_saml_assertions_seen_expires_at'), table_name='saml_assertions_seen')
    op.drop_table('saml_assertions_seen')
