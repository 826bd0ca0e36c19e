"""The resolver's outbox keeps its events as json, not jsonb.

The outbox (`resolved_messages.events`) is written once per message and read back only when a
message or a command comes again (and by the API's command status): PostgreSQL's jsonb parses
and converts every document on the way in, which was the largest part of writing a resolver
batch; json only checks it is JSON. Nothing queries inside the events.

Revision ID: 0003_arch
Revises: 0002_customer_detail_times
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_arch"
down_revision = "0002_customer_detail_times"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "resolved_messages",
        "events",
        type_=sa.JSON(),
        existing_type=postgresql.JSONB(),
        postgresql_using="events::json",
        existing_nullable=False,
    )


def downgrade() -> None:
    op.alter_column(
        "resolved_messages",
        "events",
        type_=postgresql.JSONB(),
        existing_type=sa.JSON(),
        postgresql_using="events::jsonb",
        existing_nullable=False,
    )
