"""Customer detail times: when the stored name and email were observed.

A replay may see a customer's messages in another cross-channel order; keeping the time each
detail was observed lets the resolver keep the earliest one of the best kind, whatever the order.

Revision ID: 0002_customer_detail_times
Revises: 0001_baseline
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_customer_detail_times"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("name_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("email_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "email_at")
    op.drop_column("customers", "name_at")
