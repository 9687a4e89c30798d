"""status pages: a custom domain names one page (requests whose Host is that domain are served that page)

Revision ID: 0082_status_page_domains
Revises: 0081_status_page_deliveries
Create Date: 2026-12-05 03:45:00
"""
from alembic import op

revision = '0082_status_page_domains'
down_revision = '0081_status_page_deliveries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Until now the field was only stored: a domain given twice keeps its oldest page.
    op.execute(
        "UPDATE status_pages SET custom_domain = NULL WHERE custom_domain IS NOT NULL AND EXISTS ("
        " SELECT 1 FROM status_pages o WHERE o.custom_domain = status_pages.custom_domain AND"
        " (o.created_at < status_pages.created_at OR"
        "  (o.created_at = status_pages.created_at AND CAST(o.id AS TEXT) < CAST(status_pages.id AS TEXT))))")
    op.create_index('uq_status_pages_custom_domain', 'status_pages', ['custom_domain'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_status_pages_custom_domain', table_name='status_pages')
