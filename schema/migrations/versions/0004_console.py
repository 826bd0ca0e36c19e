"""The admin console: intent tags and sentiment on timeline rows.

The timeline writer computes both for inbound messages with text when it projects them (NULL for
every other row, and for rows written before this revision), so the API and the console serve
them without scoring a message on every read.

Revision ID: 0004_console
Revises: 0003_arch
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_console"
down_revision = "0003_arch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("timeline_events", sa.Column("intent_tags", postgresql.ARRAY(sa.Text()), nullable=True))
    op.add_column("timeline_events", sa.Column("sentiment", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("timeline_events", "sentiment")
    op.drop_column("timeline_events", "intent_tags")
