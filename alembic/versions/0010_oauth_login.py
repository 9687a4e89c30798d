"""oauth login: identities linked on (issuer, subject) and server-side login states

Revision ID: 0010_oauth_login
Revises: 0001_core
Create Date: 2026-11-23 20:39:08.516639
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types

revision = '0010_oauth_login'
down_revision = '0001_core'
branch_labels = ('oauth_login',)
depends_on = None

# Neither table is tenant-owned (identities belong to users, who span tenants), so no RLS policy.


def upgrade() -> None:
    op.create_table('oauth_identities',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('email_verified', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('issuer', 'subject')
    )
    op.create_index(op.f('ix_oauth_identities_user_id'), 'oauth_identities', ['user_id'], unique=False)
    op.create_table('oauth_login_states',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('state_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('code_verifier', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('redirect_uri', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('next_path', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('link_user_id', sa.Uuid(), nullable=True),
    sa.Column('binder_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('expires_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('used_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['link_user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_oauth_login_states_expires_at'), 'oauth_login_states', ['expires_at'], unique=False)
    op.create_index(op.f('ix_oauth_login_states_state_hash'), 'oauth_login_states', ['state_hash'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_oauth_login_states_state_hash'), table_name='oauth_login_states')
    op.drop_index(op.f('ix_oauth_login_states_expires_at'), table_name='oauth_login_states')
    op.drop_table('oauth_login_states')
    op.drop_index(op.f('ix_oauth_identities_user_id'), table_name='oauth_identities')
    op.drop_table('oauth_identities')
