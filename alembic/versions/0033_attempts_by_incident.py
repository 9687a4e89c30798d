"""notification_attempts by incident (oncall.reach reads an incident's deliveries)

Revision ID: 0033_attempts_by_incident
Revises: 0032_default_route
"""
from alembic import op

revision = '0033_attempts_by_incident'
down_revision = '0032_default_route'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_notification_attempts_incident', 'notification_attempts', ['incident_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_notification_attempts_incident', table_name='notification_attempts')
