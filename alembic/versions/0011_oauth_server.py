"""oauth authorization server

Revision ID: 0011_oauth_server
Revises: 0001_core
Create Date: 2026-11-23 20:40:56.789280

Signing keys (shared by replicas), single-use PKCE codes, token families and rotating refresh tokens.
"""
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from sqlalchemy.dialects import postgresql
from xinex.kit.rls import disable_tenant_rls, enable_tenant_rls

from alembic import op

revision = '0011_oauth_server'
down_revision = '0001_core'
branch_labels = ('oauth_server',)
depends_on = None


def upgrade() -> None:
    op.create_table('oauth_signing_keys',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('kid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('alg', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('public_jwk', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('private_key_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('retired_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_oauth_signing_keys_kid'), 'oauth_signing_keys', ['kid'], unique=True)
    op.create_table('oauth_authorization_codes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('redirect_uri', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('code_challenge', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('code_challenge_method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('expires_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('used_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_oauth_authorization_codes_code_hash'), 'oauth_authorization_codes', ['code_hash'], unique=True)
    op.create_index(op.f('ix_oauth_authorization_codes_family_id'), 'oauth_authorization_codes', ['family_id'], unique=False)
    op.create_index(op.f('ix_oauth_authorization_codes_tenant_id'), 'oauth_authorization_codes', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_oauth_authorization_codes_user_id'), 'oauth_authorization_codes', ['user_id'], unique=False)
    op.create_table('oauth_token_families',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('revoked_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.Column('revoked_reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_oauth_token_families_tenant_id'), 'oauth_token_families', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_oauth_token_families_user_id'), 'oauth_token_families', ['user_id'], unique=False)
    op.create_table('oauth_refresh_tokens',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('expires_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('used_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['oauth_token_families.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_oauth_refresh_tokens_family_id'), 'oauth_refresh_tokens', ['family_id'], unique=False)
    op.create_index(op.f('ix_oauth_refresh_tokens_tenant_id'), 'oauth_refresh_tokens', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_oauth_refresh_tokens_token_hash'), 'oauth_refresh_tokens', ['token_hash'], unique=True)
    for table in ('oauth_authorization_codes', 'oauth_token_families', 'oauth_refresh_tokens'):
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in ('oauth_authorization_codes', 'oauth_token_families', 'oauth_refresh_tokens'):
        disable_tenant_rls(op, table)
    op.drop_index(op.f('ix_oauth_refresh_tokens_token_hash'), table_name='oauth_refresh_tokens')
    op.drop_index(op.f('ix_oauth_refresh_tokens_tenant_id'), table_name='oauth_refresh_tokens')
    op.drop_index(op.f('ix_oauth_refresh_tokens_family_id'), table_name='oauth_refresh_tokens')
    op.drop_table('oauth_refresh_tokens')
    op.drop_index(op.f('ix_oauth_token_families_user_id'), table_name='oauth_token_families')
    op.drop_index(op.f('ix_oauth_token_families_tenant_id'), table_name='oauth_token_families')
    op.drop_table('oauth_token_families')
    op.drop_index(op.f('ix_oauth_authorization_codes_user_id'), table_name='oauth_authorization_codes')
    op.drop_index(op.f('ix_oauth_authorization_codes_tenant_id'), table_name='oauth_authorization_codes')
    op.drop_index(op.f('ix_oauth_authorization_codes_family_id'), table_name='oauth_authorization_codes')
    op.drop_index(op.f('ix_oauth_authorization_codes_code_hash'), table_name='oauth_authorization_codes')
    op.drop_table('oauth_authorization_codes')
    op.drop_index(op.f('ix_oauth_signing_keys_kid'), table_name='oauth_signing_keys')
    op.drop_table('oauth_signing_keys')
