"""account surface: data exports and onboarding completions

Revision ID: 0061_account
Revises: 0060_billing
Create Date: 2026-12-04 23:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types
from xinex.kit.rls import enable_tenant_rls, disable_tenant_rls

revision = '0061_account'
down_revision = '0060_billing'
branch_labels = None
depends_on = None

TABLES = ('account_exports', 'onboarding_completions')
UTC = xinex.kit.types.UTCDateTimeType(timezone=True)
S = sqlmodel.sql.sqltypes.AutoString


def _entity() -> list:
    return [sa.Column('id', sa.Uuid(), nullable=False), sa.Column('created_at', UTC, nullable=False),
            sa.Column('updated_at', UTC, nullable=False), sa.Column('tenant_id', sa.Uuid(), nullable=False)]


def upgrade() -> None:
    op.create_table('account_exports', *_entity(),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('status', S(length=10), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('error', S(length=200), nullable=True),
    sa.Column('finished_at', UTC, nullable=True),
    sa.Column('expires_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_account_exports_tenant_id'), 'account_exports', ['tenant_id'], unique=False)
    op.create_table('onboarding_completions', *_entity(),
    sa.Column('step', S(length=40), nullable=False),
    sa.Column('completed_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['completed_by'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'step'),
    )
    op.create_index(op.f('ix_onboarding_completions_tenant_id'), 'onboarding_completions', ['tenant_id'],
                    unique=False)
    for table in TABLES:
        enable_tenant_rls(op, table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(op, table)
    op.drop_table('onboarding_completions')
    op.drop_table('account_exports')
