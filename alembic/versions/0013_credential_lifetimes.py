"""credential lifetimes: disabled users, sessions that remember which tenant's SSO created them

Revision ID: 0013_credential_lifetimes
Revises: 0001_core
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import xinex.kit.types

revision = '0013_credential_lifetimes'
down_revision = '0001_core'
branch_labels = ('credential_lifetimes',)
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite too): `users` is referenced everywhere, never rebuild it.
    op.add_column('users', sa.Column('disabled_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True))
    # Batch mode adds the foreign key on SQLite as well (it rebuilds this table, which nothing references).
    with op.batch_alter_table('user_sessions') as batch:
        batch.add_column(sa.Column('sso_tenant_id', sa.Uuid(), nullable=True))
        batch.create_foreign_key('fk_user_sessions_sso_tenant_id', 'tenants', ['sso_tenant_id'], ['id'],
                                 ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('user_sessions') as batch:
        batch.drop_constraint('fk_user_sessions_sso_tenant_id', type_='foreignkey')
        batch.drop_column('sso_tenant_id')
    op.drop_column('users', 'disabled_at')
