"""Baseline: identity, timeline and consent tables (mirrors schema/tables.py; a test compares them).

Revision ID: 0001_baseline
Revises: 
Create Date: 2026-11-21 05:31:58.481254
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consent_ledger',
    sa.Column('seq', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('e164', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('keyword', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.Text(), nullable=True),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('opted_in','opted_out')", name='ck_consent_status'),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('idempotency_key')
    )
    op.create_index('ix_consent_phone', 'consent_ledger', ['e164', 'channel', 'seq'], unique=False)
    op.create_table('customers',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('merged_into', sa.UUID(), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('merged_into IS NULL OR merged_into <> id', name='ck_customers_not_merged_into_self'),
    sa.ForeignKeyConstraint(['merged_into'], ['customers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('identity_conflicts',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('identity_id', sa.UUID(), nullable=True),
    sa.Column('thread_id', sa.UUID(), nullable=True),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('other_customer_id', sa.UUID(), nullable=True),
    sa.Column('e164', sa.Text(), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'open'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_conflicts_open', 'identity_conflicts', ['status', 'created_at'], unique=False)
    op.create_table('identity_constraints',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('identity_id', sa.UUID(), nullable=True),
    sa.Column('thread_id', sa.UUID(), nullable=True),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('other_customer_id', sa.UUID(), nullable=True),
    sa.Column('e164', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_constraints_e164', 'identity_constraints', ['e164'], unique=False)
    op.create_index('ix_constraints_identity', 'identity_constraints', ['identity_id'], unique=False)
    op.create_table('identity_ledger',
    sa.Column('seq', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('rule', sa.Text(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('other_customer_id', sa.UUID(), nullable=True),
    sa.Column('identity_id', sa.UUID(), nullable=True),
    sa.Column('thread_id', sa.UUID(), nullable=True),
    sa.Column('e164', sa.Text(), nullable=True),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('policy_version', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_ledger_customer', 'identity_ledger', ['customer_id'], unique=False)
    op.create_index('ix_ledger_identity', 'identity_ledger', ['identity_id'], unique=False)
    op.create_table('resolved_messages',
    sa.Column('idempotency_key', sa.Text(), nullable=False),
    sa.Column('thread_id', sa.UUID(), nullable=True),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('events', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key')
    )
    op.create_table('timeline_events',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('idempotency_key', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('thread_id', sa.UUID(), nullable=True),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('direction', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('sender', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    op.create_index('ix_timeline_customer_time', 'timeline_events', ['customer_id', 'occurred_at', 'id'], unique=False)
    op.create_index('ix_timeline_thread_time', 'timeline_events', ['thread_id', 'occurred_at'], unique=False)
    op.create_table('identities',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('platform', sa.Text(), nullable=False),
    sa.Column('business_account', sa.Text(), nullable=False),
    sa.Column('provider_user_id', sa.Text(), nullable=False),
    sa.Column('handle', sa.Text(), nullable=True),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('confidence', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('verification', sa.Text(), server_default=sa.text("'unverified'"), nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("verification IN ('unverified','verified','rejected')", name='ck_identities_verification'),
    sa.CheckConstraint('confidence >= 0 AND confidence <= 1', name='ck_identities_confidence'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'business_account', 'provider_user_id', name='uq_identities_provider_id')
    )
    op.create_index('ix_identities_customer', 'identities', ['customer_id'], unique=False)
    op.create_table('phones',
    sa.Column('e164', sa.Text(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('shared', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('shared_by', sa.Text(), nullable=True),
    sa.Column('normalizer_version', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("e164 ~ '^\\+[1-9][0-9]{6,14}$'", name='ck_phones_e164'),
    sa.CheckConstraint('NOT shared OR customer_id IS NULL', name='ck_phones_shared_links_nobody'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.PrimaryKeyConstraint('e164')
    )
    op.create_index('ix_phones_customer', 'phones', ['customer_id'], unique=False)
    op.create_table('phone_addresses',
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('e164', sa.Text(), nullable=False),
    sa.Column('normalizer_version', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['e164'], ['phones.e164'], ),
    sa.PrimaryKeyConstraint('channel', 'address')
    )
    op.create_table('threads',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('thread_key', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('business_account', sa.Text(), nullable=False),
    sa.Column('identity_id', sa.UUID(), nullable=True),
    sa.Column('customer_id', sa.UUID(), nullable=True),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('first_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('thread_key')
    )
    op.create_index('ix_threads_customer', 'threads', ['customer_id'], unique=False)
    op.create_index('ix_threads_identity', 'threads', ['identity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_threads_identity', table_name='threads')
    op.drop_index('ix_threads_customer', table_name='threads')
    op.drop_table('threads')
    op.drop_table('phone_addresses')
    op.drop_index('ix_phones_customer', table_name='phones')
    op.drop_table('phones')
    op.drop_index('ix_identities_customer', table_name='identities')
    op.drop_table('identities')
    op.drop_index('ix_timeline_thread_time', table_name='timeline_events')
    op.drop_index('ix_timeline_customer_time', table_name='timeline_events')
    op.drop_table('timeline_events')
    op.drop_table('resolved_messages')
    op.drop_index('ix_ledger_identity', table_name='identity_ledger')
    op.drop_index('ix_ledger_customer', table_name='identity_ledger')
    op.drop_table('identity_ledger')
    op.drop_index('ix_constraints_identity', table_name='identity_constraints')
    op.drop_index('ix_constraints_e164', table_name='identity_constraints')
    op.drop_table('identity_constraints')
    op.drop_index('ix_conflicts_open', table_name='identity_conflicts')
    op.drop_table('identity_conflicts')
    op.drop_table('customers')
    op.drop_index('ix_consent_phone', table_name='consent_ledger')
    op.drop_table('consent_ledger')
