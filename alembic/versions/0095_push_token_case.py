"""push: APNs device tokens in lower case (hex is case-free), merging the rows one phone got by spelling it twice

Revision ID: 0095_push_token_case
Revises: 0090_push
Create Date: 2026-12-05 04:50:00
"""
from alembic import op

revision = '0095_push_token_case'
down_revision = '0090_push'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Of the spellings of one token in a tenant, the most recently registered row is kept (ties: the greater id).
    op.execute("""
        DELETE FROM push_tokens
        WHERE platform = 'ios' AND EXISTS (
            SELECT 1 FROM push_tokens other
            WHERE other.tenant_id = push_tokens.tenant_id AND other.platform = 'ios'
              AND lower(other.token) = lower(push_tokens.token) AND other.id <> push_tokens.id
              AND (other.last_registered_at > push_tokens.last_registered_at
                   OR (other.last_registered_at = push_tokens.last_registered_at AND other.id > push_tokens.id)))
    """)
    op.execute("UPDATE push_tokens SET token = lower(token) WHERE platform = 'ios' AND token <> lower(token)")


def downgrade() -> None:
    pass  # the case an app once sent is not kept; lower case is what APNs answers to anyway
