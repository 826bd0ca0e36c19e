"""PostgreSQL tables, as SQLAlchemy Core metadata (the Alembic baseline mirrors this).

Identity tables are written only by the resolver (the single writer per phone); the timeline
is written only by the timeline writer; the API reads both and writes nothing but commands
onto Kafka. Uniqueness constraints are the backstop for the streaming invariants:
`phones.e164` is a primary key, so at most one customer owns a number, and
`timeline_events.idempotency_key` makes redelivery harmless.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = MetaData()

NOW = text("now()")

customers = Table(
    "customers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text),
    Column("email", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # When the stored name and email were observed: the earliest of the best kind wins, so a
    # replay in another cross-channel order keeps the same details.
    Column("name_at", DateTime(timezone=True)),
    Column("email_at", DateTime(timezone=True)),
    # A merge is a soft pointer to the survivor, so a split can undo it exactly.
    Column("merged_into", UUID(as_uuid=True), ForeignKey("customers.id")),
    Column("erased_at", DateTime(timezone=True)),
    # The admin who set the name or email by hand ('admin:<name>'): automation never changes it.
    Column("name_by", Text),
    Column("email_by", Text),
    # Where the kept email came from (workers/domain/email_choice.py): a stronger source's
    # address is kept over a newer one from a weaker source.
    Column("email_source", Text),
    CheckConstraint("merged_into IS NULL OR merged_into <> id", name="ck_customers_not_merged_into_self"),
)

phones = Table(
    "phones",
    metadata,
    # The canonical E.164 (equivalence-class representative): one row per number.
    Column("e164", Text, primary_key=True),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id")),
    Column("shared", Boolean, nullable=False, server_default=text("false")),
    Column("shared_by", Text),  # 'rule' or 'admin:<name>'
    Column("normalizer_version", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The customer an admin removed this phone from: automation never gives it back to them.
    Column("released_from", UUID(as_uuid=True), ForeignKey("customers.id")),
    CheckConstraint("NOT shared OR customer_id IS NULL", name="ck_phones_shared_links_nobody"),
    CheckConstraint("e164 ~ '^\\+[1-9][0-9]{6,14}$'", name="ck_phones_e164"),
)
Index("ix_phones_customer", phones.c.customer_id)

phone_addresses = Table(
    "phone_addresses",
    metadata,
    # The routable address as the provider sent it (wa_id, whatsapp:+..., +1...), apart from
    # its canonical E.164: a WhatsApp id libphonenumber calls invalid is still a real address.
    Column("channel", Text, primary_key=True),
    Column("address", Text, primary_key=True),
    Column("e164", Text, ForeignKey("phones.e164"), nullable=False),
    Column("normalizer_version", Text, nullable=False),
)

identities = Table(
    "identities",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("platform", Text, nullable=False),
    Column("business_account", Text, nullable=False),
    Column("provider_user_id", Text, nullable=False),
    Column("handle", Text),
    Column("display_name", Text),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id")),
    Column("confidence", Float, nullable=False, server_default=text("0")),
    Column("verification", Text, nullable=False, server_default=text("'unverified'")),
    # Set when a person decided this link; automation never changes it afterwards.
    Column("decided_by", Text),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform", "business_account", "provider_user_id", name="uq_identities_provider_id"),
    CheckConstraint(
        "verification IN ('unverified','verified','rejected')", name="ck_identities_verification"
    ),
    CheckConstraint("confidence >= 0 AND confidence <= 1", name="ck_identities_confidence"),
)
Index("ix_identities_customer", identities.c.customer_id)

threads = Table(
    "threads",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("thread_key", Text, nullable=False, unique=True),
    Column("channel", Text, nullable=False),
    Column("business_account", Text, nullable=False),
    Column("identity_id", UUID(as_uuid=True), ForeignKey("identities.id")),
    Column("customer_id", UUID(as_uuid=True), ForeignKey("customers.id")),
    Column("decided_by", Text),
    Column("first_message_at", DateTime(timezone=True)),
    Column("last_message_at", DateTime(timezone=True)),
    Column("message_count", Integer, nullable=False, server_default=text("0")),
)
Index("ix_threads_customer", threads.c.customer_id)
Index("ix_threads_identity", threads.c.identity_id)

identity_ledger = Table(
    "identity_ledger",
    metadata,
    # Append-only: every decision with who made it, by which rule, on what evidence.
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("confidence", Float),
    Column("customer_id", UUID(as_uuid=True)),
    Column("other_customer_id", UUID(as_uuid=True)),
    Column("identity_id", UUID(as_uuid=True)),
    Column("thread_id", UUID(as_uuid=True)),
    Column("e164", Text),
    Column("evidence", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("policy_version", Text, nullable=False),
)
Index("ix_ledger_customer", identity_ledger.c.customer_id)
Index("ix_ledger_identity", identity_ledger.c.identity_id)

constraints = Table(
    "identity_constraints",
    metadata,
    # People decide last: durable admin decisions that automation, backfill and re-normalization honour.
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # never_link (identity or thread, customer) | never_merge (customer, other customer)
    # | pin_link (identity or thread, customer) | shared / not_shared (e164)
    Column("kind", Text, nullable=False),
    Column("identity_id", UUID(as_uuid=True)),
    Column("thread_id", UUID(as_uuid=True)),
    Column("customer_id", UUID(as_uuid=True)),
    Column("other_customer_id", UUID(as_uuid=True)),
    Column("e164", Text),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
)
Index("ix_constraints_identity", constraints.c.identity_id)
Index("ix_constraints_e164", constraints.c.e164)

conflicts = Table(
    "identity_conflicts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kind", Text, nullable=False),
    Column("identity_id", UUID(as_uuid=True)),
    Column("thread_id", UUID(as_uuid=True)),
    Column("customer_id", UUID(as_uuid=True)),
    Column("other_customer_id", UUID(as_uuid=True)),
    Column("e164", Text),
    Column("confidence", Float),
    Column("evidence", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", Text, nullable=False, server_default=text("'open'")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
)
Index("ix_conflicts_open", conflicts.c.status, conflicts.c.created_at)

resolved_messages = Table(
    "resolved_messages",
    metadata,
    # The resolver's outbox: the linked events a message produced, stored in the same
    # transaction as the identity changes, so a redelivered message re-sends exactly them.
    Column("idempotency_key", Text, primary_key=True),
    Column("thread_id", UUID(as_uuid=True)),
    Column("customer_id", UUID(as_uuid=True)),
    # json, not jsonb: written once per message, read back only on redelivery, never queried
    # inside; jsonb's parse on the way in was the costliest part of writing a batch.
    Column("events", JSON, nullable=False),
    Column("resolved_at", DateTime(timezone=True), nullable=False),
    # Why the resolver refused an admin command (its events are then []); NULL otherwise.
    Column("refused", Text),
)

timeline_events = Table(
    "timeline_events",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    # The customer who owns the thread; a merged customer's rows keep their owner so a split
    # restores them exactly. NULL while the thread is unlinked.
    Column("customer_id", UUID(as_uuid=True)),
    Column("thread_id", UUID(as_uuid=True)),
    Column("type", Text, nullable=False),  # sms | whatsapp | social_media | booking | identity | consent
    Column("channel", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("direction", Text),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("content", Text),
    Column("sender", Text),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("written_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    # Inbound messages with text only (NULL otherwise): workers.domain.intent's tags, and the
    # sentiment in -1..1 of those that read as English (workers.timeline.sentiment).
    Column("intent_tags", ARRAY(Text)),
    Column("sentiment", Float),
    # A status or an unsend: the idempotency key of the message it is about.
    Column("refers_to", Text),
    # Shown only on demand: the row that stands for this one now (a booking's latest version;
    # for an unsend, the message it hid).
    Column("superseded_by", UUID(as_uuid=True)),
)
Index(
    "ix_timeline_customer_time",
    timeline_events.c.customer_id,
    timeline_events.c.occurred_at,
    timeline_events.c.id,
)
Index("ix_timeline_thread_time", timeline_events.c.thread_id, timeline_events.c.occurred_at)
Index(
    "ix_timeline_refers_to",
    timeline_events.c.refers_to,
    postgresql_where=timeline_events.c.refers_to.isnot(None),
)
# The unsends alone: the writer probes them for every batch of messages that can be unsent.
Index(
    "ix_timeline_unsends",
    timeline_events.c.refers_to,
    postgresql_where=timeline_events.c.kind == "deleted",
)

consent_ledger = Table(
    "consent_ledger",
    metadata,
    # Append-only consent evidence per phone (or channel identity) and channel; the current
    # status is the latest row by its own time (see workers/domain/consent.py).
    Column("seq", BigInteger, primary_key=True, autoincrement=True),
    # The number, while its person is known; NULL for a channel identity's own signal (a
    # WhatsApp user known by username only) and after the person was erased.
    Column("e164", Text),
    # Keyed hash of the phone (ph_...) or of the channel identity (id_...): what an erasure
    # keeps, so an opt-out outlives the person's data (phoneunify/privacy.py).
    Column("subject", Text),
    # The channel identity whose message said it (NULL for an admin's).
    Column("identity_id", UUID(as_uuid=True)),
    Column("channel", Text, nullable=False),
    Column("status", Text, nullable=False),  # opted_in | opted_out
    Column("source", Text, nullable=False),  # keyword | provider | admin | booking_form
    Column("keyword", Text),
    Column("idempotency_key", Text, unique=True),
    Column("evidence", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('opted_in','opted_out')", name="ck_consent_status"),
    CheckConstraint("e164 IS NOT NULL OR subject IS NOT NULL", name="ck_consent_about_someone"),
)
Index("ix_consent_phone", consent_ledger.c.e164, consent_ledger.c.channel, consent_ledger.c.seq)
Index("ix_consent_subject", consent_ledger.c.subject, consent_ledger.c.channel)

privacy_fence = Table(
    "privacy_fence",
    metadata,
    # Erasure sticks: every erased subject (keyed hash of a phone, a thread key or a channel
    # identity) with the time of its latest erasure. Messages from a subject that began before
    # that time are dropped by the resolver, live or in a replay (which restores this table
    # from the compacted privacy.erasures topic); later ones start a new person.
    Column("subject", Text, primary_key=True),
    Column("kind", Text, nullable=False),  # phone | thread | identity
    Column("erased_at", DateTime(timezone=True), nullable=False),
    Column("command_id", Text),
    CheckConstraint("kind IN ('phone','thread','identity')", name="ck_fence_kind"),
)

profile_fetches = Table(
    "profile_fetches",
    metadata,
    # The profile fetcher's cache and retry schedule (workers/profiles): when a Messenger or
    # Instagram sender's Graph API profile was fetched, and when it is due again (after the TTL,
    # or after a failure's backoff). Never identity: profiles reach the identity tables through
    # the resolver, as raw envelopes of kind "profile".
    Column("channel", Text, primary_key=True),
    Column("business_account", Text, primary_key=True),
    Column("provider_user_id", Text, primary_key=True),
    Column("thread_key", Text, nullable=False),
    # The sender's latest message seen, and when its profile was last settled (fetched, or
    # given up on): a sender not seen since is never fetched again.
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("fetched_at", DateTime(timezone=True)),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
)
Index("ix_profile_fetches_due", profile_fetches.c.due_at)
