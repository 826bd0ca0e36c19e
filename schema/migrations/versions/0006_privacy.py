"""Privacy: consent rows keyed by a keyed hash (so an opt-out outlives an erasure, and a channel
identity without a phone can opt out), and the erasure fence.

- consent_ledger.subject: keyed hash of the phone (ph_...) or of the channel identity (id_...);
  e164 becomes nullable (an identity's own signal has none, an erased person's rows lose it);
  identity_id: which channel identity said it.
- privacy_fence: erased subjects and when; the resolver drops what they sent before.

Rows written before this revision keep subject NULL and are found by e164 (the hash key is a
secret the migration does not hold); an erasure fills subject in when it clears e164.

Revision ID: 0006_privacy
Revises: 0005_profiles
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_privacy"
down_revision = "0005_profiles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consent_ledger", sa.Column("subject", sa.Text(), nullable=True))
    op.add_column("consent_ledger", sa.Column("identity_id", postgresql.UUID(), nullable=True))
    op.alter_column("consent_ledger", "e164", existing_type=sa.Text(), nullable=True)
    op.create_check_constraint(
        "ck_consent_about_someone", "consent_ledger", "e164 IS NOT NULL OR subject IS NOT NULL"
    )
    op.create_index("ix_consent_subject", "consent_ledger", ["subject", "channel"], unique=False)
    op.create_table(
        "privacy_fence",
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("command_id", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('phone','thread','identity')", name="ck_fence_kind"),
        sa.PrimaryKeyConstraint("subject"),
    )


def downgrade() -> None:
    op.drop_table("privacy_fence")
    op.drop_index("ix_consent_subject", table_name="consent_ledger")
    op.drop_constraint("ck_consent_about_someone", "consent_ledger", type_="check")
    # Rows without a number (identity signals, erased people) cannot go back to a NOT NULL column.
    op.execute("DELETE FROM consent_ledger WHERE e164 IS NULL")
    op.alter_column("consent_ledger", "e164", existing_type=sa.Text(), nullable=False)
    op.drop_column("consent_ledger", "identity_id")
    op.drop_column("consent_ledger", "subject")
