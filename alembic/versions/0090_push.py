"""push: device tokens of the mobile app and spent notification action tokens

Revision ID: 0090_push
Revises: 0001_core
Create Date: 2026-12-05 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from xinex.kit.rls import enable_tenant_rls, disable_tenant_rls

revision = '0090_push'
down_revision = '0001_core'
branch_labels = ('push',)
depends_on = None

TABLES = ('push_tokens', 'push_action_uses')
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
    op.create_table('push_tokens', *_base(),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('token', Str(length=1024), nullable=False),
        sa.Column('platform', Str(length=10), nullable=False),
        sa.Column('apns_environment', Str(length=12), nullable=False),
        sa.Column('critical_alerts', sa.Boolean(), nullable=False),
        sa.Column('app_version', Str(length=50), nullable=True),
        sa.Column('device_name', Str(length=200), nullable=True),
        sa.Column('locale', Str(length=35), nullable=True),
        sa.Column('oauth_family_id', sa.Uuid(), nullable=True),
        sa.Column('last_registered_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.UniqueConstraint('tenant_id', 'token', name='uq_push_tokens_token'),
    )
    op.create_index('ix_push_tokens_tenant_id', 'push_tokens', ['tenant_id'])
    op.create_index('ix_push_tokens_user', 'push_tokens', ['tenant_id', 'user_id'])
    op.create_index('ix_push_tokens_oauth_family_id', 'push_tokens', ['oauth_family_id'])
    op.create_table('push_action_uses', *_base(),
        sa.Column('jti', Str(length=64), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('incident_id', sa.Uuid(), nullable=False),
        sa.Column('action', Str(length=10), nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.UniqueConstraint('jti', name='uq_push_action_uses_jti'),
    )
    op.create_index('ix_push_action_uses_tenant_id', 'push_action_uses', ['tenant_id'])
    for table in TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(op, table)
        op.drop_table(table)
