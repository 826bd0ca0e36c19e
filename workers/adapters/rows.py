"""The rows under the identity repository, and the store they come from and go to.

`Repository` (repository.py) decides in memory over rows it reads through a `RowStore` and
hands its changes back to it at commit. `PostgresRows` (postgres.py) is the production store;
the tests' store keeps the same rows in dicts. A store only reads and writes rows: every rule
about what a row becomes is in the repository, once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Literal, Protocol

from workers.domain.ports import BatchKeys

Row = dict[str, Any]
# An open question for a person, as the repository compares them: kind, identity, phone,
# customer, other customer.
ConflictKey = tuple[str, uuid.UUID | None, str | None, uuid.UUID | None, uuid.UUID | None]
# (identity id, display name, handle) of a person who claimed a phone.
Claimant = tuple[uuid.UUID, str | None, str | None]


@dataclass(frozen=True)
class TableSpec:
    """A table as the repository writes it: the columns it tracks (others keep their stored
    values or defaults), the key a cached row is found by, and the columns a row is unique on
    where writing it twice must do nothing."""

    name: str
    columns: tuple[str, ...]
    key: str = ""
    unique: tuple[str, ...] = ()

    @cached_property
    def column_names(self) -> frozenset[str]:
        return frozenset(self.columns)


CUSTOMERS = TableSpec(
    "customers",
    (
        "id",
        "name",
        "email",
        "name_at",
        "email_at",
        "created_at",
        "merged_into",
        "name_by",
        "email_by",
        "erased_at",
        "email_source",
    ),
    "id",
)
PHONES = TableSpec(
    "phones",
    ("e164", "customer_id", "shared", "shared_by", "normalizer_version", "created_at", "released_from"),
    "e164",
)
IDENTITIES = TableSpec(
    "identities",
    (
        "id",
        "platform",
        "business_account",
        "provider_user_id",
        "handle",
        "display_name",
        "customer_id",
        "confidence",
        "verification",
        "decided_by",
        "first_seen_at",
        "last_seen_at",
    ),
    "id",
)
THREADS = TableSpec(
    "threads",
    (
        "id",
        "thread_key",
        "channel",
        "business_account",
        "identity_id",
        "customer_id",
        "decided_by",
        "first_message_at",
        "last_message_at",
        "message_count",
    ),
    "id",
)
ADDRESSES = TableSpec(
    "phone_addresses", ("channel", "address", "e164", "normalizer_version"), unique=("channel", "address")
)
CONSENT = TableSpec(
    "consent_ledger",
    (
        "e164",
        "subject",
        "identity_id",
        "channel",
        "status",
        "source",
        "keyword",
        "idempotency_key",
        "evidence",
        "at",
    ),
    unique=("idempotency_key",),
)
LEDGER = TableSpec(
    "identity_ledger",
    (
        "at",
        "action",
        "actor",
        "rule",
        "confidence",
        "customer_id",
        "other_customer_id",
        "identity_id",
        "thread_id",
        "e164",
        "evidence",
        "policy_version",
    ),
)
CONFLICTS = TableSpec(
    "identity_conflicts",
    (
        "status",
        "resolved_at",
        "kind",
        "identity_id",
        "thread_id",
        "customer_id",
        "other_customer_id",
        "e164",
        "confidence",
        "evidence",
        "created_at",
    ),
)
CONSTRAINTS = TableSpec(
    "identity_constraints",
    (
        "kind",
        "identity_id",
        "thread_id",
        "customer_id",
        "other_customer_id",
        "e164",
        "created_by",
        "created_at",
        "active",
    ),
)
OUTBOX = TableSpec(
    "resolved_messages", ("idempotency_key", "thread_id", "customer_id", "events", "resolved_at", "refused")
)
FENCE = TableSpec("privacy_fence", ("subject", "kind", "erased_at", "command_id"), "subject")

# What an erasure reads and rewrites of the other tables: rows by their primary key, only the
# columns that hold personal data (or say a question is closed), and rows deleted by a column.
LEDGER_PRIVATE = TableSpec("identity_ledger", ("seq", "e164", "evidence"), "seq")
CONFLICTS_PRIVATE = TableSpec("identity_conflicts", ("id", "status", "resolved_at", "e164", "evidence"), "id")
CONSTRAINTS_PRIVATE = TableSpec("identity_constraints", ("id", "e164", "active"), "id")
CONSENT_ROWS = TableSpec("consent_ledger", ("seq", *CONSENT.columns), "seq")
OUTBOX_EVENTS = TableSpec("resolved_messages", ("idempotency_key", "events"), "idempotency_key")
OUTBOX_OF_THREAD = TableSpec("resolved_messages", ("thread_id",), "thread_id")
ADDRESSES_OF_PHONE = TableSpec("phone_addresses", ("e164",), "e164")
# The profile fetcher's rows of a thread's sender (its cache and schedule: workers/profiles).
PROFILE_FETCHES_OF_THREAD = TableSpec("profile_fetches", ("thread_key",), "thread_key")


class Encoded:
    """A JSON value already encoded as text (the resolver encodes each event once, for Kafka
    and the outbox alike); a store writes the text as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


@dataclass(frozen=True)
class Write:
    """Rows to write to one table: `insert` rows new to a keyed table, `update` every tracked
    column of rows found by key, `insert_missing` rows unless their unique columns are stored
    already, `upsert` rows or, where their unique columns are stored already, their other
    columns, `append` rows to an append-only table (in order), `delete` every row whose key
    column holds one of the rows' key values (an erasure's)."""

    kind: Literal["insert", "update", "insert_missing", "upsert", "append", "delete"]
    table: TableSpec
    rows: Sequence[Row]


@dataclass(frozen=True)
class BatchRows:
    """What `RowStore.load_batch` read."""

    threads: list[Row]
    identities: list[Row]
    phones: list[Row]
    customers: list[Row]
    outbox: dict[str, list[dict[str, Any]]]
    never: list[Row]
    open_conflicts: list[ConflictKey]


@dataclass(frozen=True)
class PhoneClaims:
    """Who claimed a phone, as stored: the identities linked to the customer row holding it,
    those of the open conflicts of the given kinds on it, and the kind of the latest active
    shared / not_shared constraint on it."""

    linked: list[Claimant]
    waiting: list[Claimant]
    mark: str | None


@dataclass(frozen=True)
class ClusterRows:
    """What `RowStore.cluster` read: the customers of one person, the phones they own, the
    identities linked to them (id, platform, business_account, provider_user_id), and the
    threads linked to them or to those identities (id, thread_key)."""

    survivor: uuid.UUID | None  # None when there is no such customer
    members: list[uuid.UUID]
    phones: list[str]
    identities: list[Row]
    threads: list[Row]


@dataclass(frozen=True)
class About:
    """The rows an erasure rewrites are those about these customers, identities, threads,
    phones (by number) and subjects (keyed hashes)."""

    customers: Sequence[uuid.UUID]
    identities: Sequence[uuid.UUID]
    threads: Sequence[uuid.UUID]
    phones: Sequence[str]
    subjects: Sequence[str]


@dataclass(frozen=True)
class PrivateRows:
    """What `RowStore.private_rows` read, in primary key order: ledger entries and conflicts
    naming the customers, identities, threads or phones (LEDGER_PRIVATE, CONFLICTS_PRIVATE
    columns), constraints on the phones (CONSTRAINTS_PRIVATE), consent rows of the phones or
    subjects (CONSENT_ROWS), and the outbox rows of the customers' messages on other threads
    (OUTBOX_EVENTS)."""

    ledger: list[Row]
    conflicts: list[Row]
    constraints: list[Row]
    consent: list[Row]
    outbox: list[Row]


class RowStore(Protocol):
    """Reads rows (locking those read by key until the transaction ends) and writes them."""

    def lock(self, keys: Sequence[str]) -> None:
        """Transaction-scoped locks on natural keys, taken in one order so two never deadlock."""

    def load(self, table: TableSpec, keys: Sequence[Any]) -> list[Row]:
        """The rows with these keys (absent ones are simply missing), locked for update."""

    def load_threads(self, thread_ids: Sequence[uuid.UUID], identity_ids: Sequence[uuid.UUID]) -> list[Row]:
        """Threads with these ids, and every thread of these identities, locked for update."""

    def load_batch(self, keys: BatchKeys) -> BatchRows:
        """Everything a batch reads first, at once: the threads with these ids and every thread
        of these identities, the identities, the phones, and the customers with these ids or
        named by those rows (one hop: the repository follows longer merge chains), all locked
        for update; the stored events of the outbox keys; the never_link constraints of the
        identities and the never_merge constraints of those customers; the open conflicts of
        the identities."""

    def phone_claims(self, e164: str, holder: uuid.UUID | None, kinds: Sequence[str]) -> PhoneClaims:
        """Who claimed a phone, as stored (see PhoneClaims)."""

    def open_conflicts(self, identity_ids: Sequence[uuid.UUID]) -> list[ConflictKey]:
        """The open conflicts of these identities."""

    def attested_identities(self, e164: str) -> list[uuid.UUID]:
        """Identities whose (platform, provider user id) is one of the phone's stored addresses."""

    def never_constraints(
        self, identity_ids: Sequence[uuid.UUID], customer_ids: Sequence[uuid.UUID]
    ) -> list[Row]:
        """Active never_link constraints of these identities and never_merge constraints naming
        these customers (kind, identity_id, customer_id, other_customer_id)."""

    def outbox(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The stored events of those keys that have some."""

    def address(self, channel: str, address: str) -> Row | None:
        """The stored row of a channel address (its number and normalizer version), locked."""

    def consent_of(self, e164: str) -> list[Row]:
        """Every consent signal stored for a number, oldest first."""

    def resolve_conflicts(
        self,
        at: datetime,
        *,
        between: tuple[uuid.UUID, uuid.UUID] | None = None,
        conflict_id: int | None = None,
    ) -> int:
        """Mark answered the open conflicts between two customers, or one conflict by id;
        returns how many rows it changed (written at once, in the transaction)."""

    def cluster(self, customer_id: uuid.UUID) -> ClusterRows:
        """The customer's cluster (see ClusterRows) from its surviving customer down, as
        committed, without locking anything."""

    def private_rows(self, about: About) -> PrivateRows:
        """The rows of the append-only tables an erasure rewrites (see PrivateRows)."""

    def write(self, writes: Sequence[Write]) -> None:
        """Apply the writes in order (all of a unit of work's, at commit). An `insert` of a row
        another transaction inserted first raises ConcurrentWriteError (the unit of work then
        rolls back)."""
