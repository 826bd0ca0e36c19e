"""Data that stays correct: where a customer's email came from, versions and unsends on the timeline.

- `customers.email_source`: the newest email of the strongest source is kept
  (workers/domain/email_choice.py); until now only the booking form gave emails, so the ones
  stored are marked as its.
- `timeline_events.refers_to`: a status or an unsend names the message it is about (its
  idempotency key), so a delivery status attaches to the business's reply and an unsend hides
  the customer's text.
- `timeline_events.superseded_by`: a row shown only on demand, pointing at the one that stands
  for it now (a booking's latest version; for an unsend, the message it hid).

Revision ID: 0007_data
Revises: 0006_privacy
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_data"
down_revision = "0006_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("email_source", sa.Text(), nullable=True))
    op.execute("UPDATE customers SET email_source = 'booking_form' WHERE email IS NOT NULL")
    op.add_column("timeline_events", sa.Column("refers_to", sa.Text(), nullable=True))
    op.add_column("timeline_events", sa.Column("superseded_by", postgresql.UUID(as_uuid=True), nullable=True))
    op.create_index(
        "ix_timeline_refers_to",
        "timeline_events",
        ["refers_to"],
        postgresql_where=sa.text("refers_to IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_refers_to", table_name="timeline_events")
    op.drop_column("timeline_events", "superseded_by")
    op.drop_column("timeline_events", "refers_to")
    op.drop_column("customers", "email_source")
