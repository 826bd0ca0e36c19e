"""Who the sender is, admin edits, and why a command was refused.

- `profile_fetches`: the profile fetcher's own bookkeeping (workers/profiles): when each Messenger
  or Instagram sender's Graph API profile was last fetched, and when a failed fetch is due again.
  The profile itself reaches the identity tables only through the resolver (a raw envelope of
  kind "profile"), so this table is a cache and a retry schedule, never identity.
- `customers.name_by` / `email_by`: the admin who set the name or email by hand; automation never
  changes a detail a person set.
- `phones.released_from`: the customer an admin removed the phone from; automation never gives
  the phone back to that customer.
- `resolved_messages.refused`: why the resolver refused an admin command (its outbox row then
  holds no events), so the status route can say so.

Revision ID: 0005_profiles
Revises: 0004_console
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_profiles"
down_revision = "0004_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("name_by", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("email_by", sa.Text(), nullable=True))
    op.add_column(
        "phones",
        sa.Column("released_from", postgresql.UUID(as_uuid=True), sa.ForeignKey("customers.id"), nullable=True),
    )
    op.add_column("resolved_messages", sa.Column("refused", sa.Text(), nullable=True))
    op.create_table(
        "profile_fetches",
        sa.Column("channel", sa.Text(), primary_key=True),
        sa.Column("business_account", sa.Text(), primary_key=True),
        sa.Column("provider_user_id", sa.Text(), primary_key=True),
        sa.Column("thread_key", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_profile_fetches_due", "profile_fetches", ["due_at"])


def downgrade() -> None:
    op.drop_index("ix_profile_fetches_due", table_name="profile_fetches")
    op.drop_table("profile_fetches")
    op.drop_column("resolved_messages", "refused")
    op.drop_column("phones", "released_from")
    op.drop_column("customers", "email_by")
    op.drop_column("customers", "name_by")
