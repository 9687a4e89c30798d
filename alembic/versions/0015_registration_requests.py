"""registration requests: sign-ups waiting for their e-mail link (enumeration-safe registration)

Revision ID: 0015_registration_requests
Revises: 0001_core
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import xinex.kit.types

revision = '0015_registration_requests'
down_revision = '0001_core'
branch_labels = ('registration_requests',)
depends_on = None

# Not tenant-owned (no tenant exists before the link is followed), so no RLS policy.


def upgrade() -> None:
    op.create_table('registration_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('updated_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('tenant_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=False),
    sa.Column('used_at', xinex.kit.types.UTCDateTimeType(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_registration_requests_email'), 'registration_requests', ['email'], unique=False)
    op.create_index(op.f('ix_registration_requests_expires_at'), 'registration_requests', ['expires_at'], unique=False)
    op.create_index(op.f('ix_registration_requests_token_hash'), 'registration_requests', ['token_hash'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_registration_requests_token_hash'), table_name='registration_requests')
    op.drop_index(op.f('ix_registration_requests_expires_at'), table_name='registration_requests')
    op.drop_index(op.f('ix_registration_requests_email'), table_name='registration_requests')
    op.drop_table('registration_requests')
