"""The ports the identity services work through: the repository and its unit of work.

The resolver and the admin commands read and change the identity tables only through
`IdentityRepository`, inside a `UnitOfWork` that rolls back unless committed. Production
wiring (workers/bootstrap.py) gives them the PostgreSQL unit of work; tests give them one over
dicts. Services never see SQL, an engine or a connection.

Adding a capability (erasure, a consent question, a profile name, ...):
1. one method here, in `IdentityRepository`, saying what it means in the domain's words;
2. its implementation in `workers/adapters/repository.py`, which decides in memory: read a
   row through the row cache (`self._rows.row(...)`), change it and `touch` it, or append a
   row to the write buffer (`self._buffer`); a new column is a name in its table's spec in
   `workers/adapters/rows.py`;
3. only if it reads rows in a way no `RowStore` method does yet: one method in `RowStore`
   (`workers/adapters/rows.py`), in `PostgresRows` (`workers/adapters/postgres.py`) and in the
   dict store of the tests (`tests/fake_identity.py`);
4. one test in `tests/contract/test_identity_repository.py`, which runs it on both stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from workers.domain.email_choice import EmailMet
from workers.domain.identity import CustomerState, IdentityState, PhoneState, ThreadState


class TransientError(RuntimeError):
    """The store is unreachable or asked us to come back later (a deadlock, a serialization
    failure, a restart): retry the whole unit of work with backoff."""


class ConcurrentWriteError(RuntimeError):
    """Another transaction wrote a row this unit of work decided about (it inserted a row we
    read as absent): nothing was written; run the whole unit of work again, it will see the row."""


@dataclass(frozen=True)
class BatchKeys:
    """The rows a batch of messages may read: its identities (and their threads), threads,
    phones, customers (a phone's first customer has an id derived from the phone) and outbox keys."""

    identities: tuple[uuid.UUID, ...] = ()
    threads: tuple[uuid.UUID, ...] = ()
    phones: tuple[str, ...] = ()
    customers: tuple[uuid.UUID, ...] = ()
    outbox_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterIdentity:
    """A channel identity of a cluster, with the natural key its messages carry."""

    id: uuid.UUID
    platform: str
    account: str
    user_id: str


@dataclass(frozen=True)
class ClusterThread:
    id: uuid.UUID
    thread_key: str


# The natural keys a resolver batch locks (advisory locks in the PostgreSQL store). The resolver
# locks a message's keys and an erasure its person's: they exclude each other only because both
# build the keys here.
def thread_lock(thread_key: str) -> str:
    return "thread:" + thread_key


def identity_lock(platform: str, account: str, user_id: str) -> str:
    return f"identity:{platform}:{account}:{user_id}"


def phone_lock(e164: str) -> str:
    return "phone:" + e164


@dataclass(frozen=True)
class Cluster:
    """One person as phoneunify knows them: the surviving customer and every customer merged
    into it (at any depth), the phones they own, the channel identities linked to them, and the
    threads linked to them or belonging to those identities. Sorted, so an erasure's ledger and
    events replay the same."""

    survivor: uuid.UUID
    members: tuple[uuid.UUID, ...]
    phones: tuple[str, ...]
    identities: tuple[ClusterIdentity, ...]
    threads: tuple[ClusterThread, ...]

    @property
    def lock_keys(self) -> list[str]:
        """The natural keys a resolver batch locks for messages of this person."""
        return [
            *(thread_lock(t.thread_key) for t in self.threads),
            *(identity_lock(i.platform, i.account, i.user_id) for i in self.identities),
            *(phone_lock(e164) for e164 in self.phones),
        ]


@dataclass(frozen=True)
class Erasure:
    """What an erasure keeps of a cluster's subjects: the keyed hash of each phone, thread key
    and channel identity (phoneunify/privacy.py), and when."""

    at: datetime
    command_id: str
    phones: dict[str, str]  # e164 -> subject
    threads: dict[uuid.UUID, str]  # thread id -> subject
    identities: dict[uuid.UUID, str]  # identity id -> subject


class IdentityRepository(Protocol):
    """Customers, phones, channel identities, threads and every decision about them.

    Reads see this unit of work's own changes. Rows read in order to be changed are locked
    until the unit of work ends, so a concurrent writer waits or shows up as
    `ConcurrentWriteError` at commit; writes reach the store together at commit.
    """

    # --- the transaction's scope ----------------------------------------------------------
    def lock(self, keys: Iterable[str]) -> None:
        """Hold, until commit or rollback, locks on natural keys (a thread, an identity, a
        phone) that another unit of work touching the same keys must wait for. They are taken
        before this unit of work's next read or write reaches the store (and only then)."""

    def prefetch(self, keys: BatchKeys) -> None:
        """A hint: these rows are about to be read (a store may read them all at once)."""

    # --- customers ------------------------------------------------------------------------
    def customer(self, customer_id: uuid.UUID | None) -> CustomerState | None: ...

    def customer_exists(self, customer_id: uuid.UUID) -> bool: ...

    def effective(self, customer_id: uuid.UUID | None) -> uuid.UUID | None:
        """The surviving customer, merge pointers followed."""

    def merged_into(self, customer_id: uuid.UUID) -> uuid.UUID | None:
        """The customer this one was merged into directly (None when not merged)."""

    def create_customer(
        self,
        customer_id: uuid.UUID,
        at: datetime,
        name: str | None,
        email: str | None,
        email_source: str = "channel",
    ) -> None:
        """A new customer (nothing happens when it exists)."""

    def note_customer_details(
        self,
        customer_id: uuid.UUID,
        name: str | None,
        email: str | None,
        at: datetime,
        email_source: str = "channel",
    ) -> EmailMet | None:
        """Keep the details a replay in any order would keep: a real name beats an @handle,
        between two of a kind the earlier observation wins; the email of the strongest source
        (workers/domain/email_choice.py), between two of one source the newer observation;
        the customer dates from its earliest message. Never erases a detail. Returns, when the
        email given differs from the one kept before, which of the two is kept (for the ledger)."""

    def set_merged_into(self, customer_id: uuid.UUID, survivor: uuid.UUID | None, at: datetime) -> None:
        """Merge (or, with None, split) a customer. A merge resolves the open questions about
        the two being one person."""

    def set_customer_details(
        self, customer_id: uuid.UUID, name: str | None, email: str | None, by: str, at: datetime
    ) -> None:
        """A person's name or email for the customer (None leaves that one as it is): it stands
        against every later observation (`note_customer_details` never changes it)."""

    # --- phones ---------------------------------------------------------------------------
    def phone(self, e164: str) -> PhoneState:
        """The phone with its effective owner (claimants and not_shared are not filled in)."""

    def phone_claimants(self, e164: str, holder: uuid.UUID | None) -> tuple[str, ...]:
        """Names of the people who claimed a phone: the identities linked to the customer row
        holding it and those waiting for review on it (sorted, so decisions are replayable)."""

    def phone_pinned_not_shared(self, e164: str) -> bool:
        """Did a person last say this phone is not shared?"""

    def ensure_phone(self, e164: str, at: datetime, version: str) -> None:
        """The number has a row (unowned when new)."""

    def claim_phone(self, e164: str, customer_id: uuid.UUID, at: datetime, version: str) -> uuid.UUID | None:
        """Give an unowned, unshared phone to a customer; returns its owner afterwards."""

    def release_phone(self, e164: str) -> uuid.UUID | None:
        """A person took the phone from the customer row holding it: it is unowned, and
        automation never gives it back to that customer (`PhoneState.released_from`). Returns
        the row that held it."""

    def identities_attested_by(self, e164: str) -> list[uuid.UUID]:
        """The identities that are this phone as a provider attests it (the SMS or WhatsApp
        sender at one of its addresses), in id order."""

    def record_address(self, channel: str, address: str, e164: str, version: str, at: datetime) -> None:
        """Remember the routable address as the provider sent it, beside its number."""

    def set_shared(self, e164: str, shared: bool, by: str, at: datetime, version: str) -> uuid.UUID | None:
        """Mark (it then links nobody) or unmark a phone as shared; returns its owner before."""

    # --- re-normalization -----------------------------------------------------------------
    def channel_address(self, channel: str, address: str) -> tuple[str, str] | None:
        """The number a stored channel address stands for, and the normalizer version that
        said so (None when the address is not stored)."""

    def readdress(self, channel: str, address: str, e164: str, version: str) -> None:
        """A new normalizer reads the address as `e164` (whose phone row must exist)."""

    def phone_mark(self, e164: str) -> str | None:
        """The latest shared / not_shared mark a person set on a phone, if any."""

    def consent_signals(self, e164: str) -> list[dict[str, Any]]:
        """Every consent signal of a number, oldest first (columns of consent_ledger)."""

    # --- channel identities ---------------------------------------------------------------
    def upsert_identity(
        self,
        identity_id: uuid.UUID,
        platform: str,
        account: str,
        user_id: str,
        handle: str | None,
        name: str | None,
        at: datetime,
    ) -> None:
        """Record a sighting: a new identity, or a later one (last seen, newer handle and name)."""

    def identity(self, identity_id: uuid.UUID) -> IdentityState:
        """An identity with its effective customer; LookupError when there is none."""

    def identity_exists(self, identity_id: uuid.UUID) -> bool: ...

    def identity_owner(self, identity_id: uuid.UUID) -> uuid.UUID | None:
        """The customer row the identity is linked to (merge pointers not followed)."""

    def link_identity(
        self,
        identity_id: uuid.UUID,
        customer_id: uuid.UUID | None,
        confidence: float,
        decided_by: str | None = None,
        verification: str | None = None,
    ) -> None: ...

    def raise_confidence(self, identity_id: uuid.UUID, confidence: float) -> None: ...

    def set_verification(self, identity_id: uuid.UUID, verification: str, by: str) -> None: ...

    def never_link(self, identity_id: uuid.UUID, customer_id: uuid.UUID | None) -> frozenset[uuid.UUID]:
        """Customers a person said must never be linked to this identity, or merged with its
        customer."""

    # --- threads --------------------------------------------------------------------------
    def upsert_thread(
        self,
        thread_id: uuid.UUID,
        thread_key: str,
        channel: str,
        account: str,
        identity_id: uuid.UUID | None,
        at: datetime,
        counts_as_message: bool,
    ) -> None:
        """Record a message on a thread: a new thread, or its range and count widened."""

    def thread(self, thread_id: uuid.UUID) -> ThreadState:
        """LookupError when there is none."""

    def thread_exists(self, thread_id: uuid.UUID) -> bool: ...

    def threads_of_identity(self, identity_id: uuid.UUID) -> list[ThreadState]:
        """Every thread of the identity, in id order (so ledgers and events replay the same)."""

    def link_thread(
        self, thread_id: uuid.UUID, customer_id: uuid.UUID | None, decided_by: str | None = None
    ) -> None: ...

    # --- decisions on record --------------------------------------------------------------
    def add_constraint(
        self,
        kind: str,
        by: str,
        at: datetime,
        *,
        identity_id: uuid.UUID | None = None,
        thread_id: uuid.UUID | None = None,
        customer_id: uuid.UUID | None = None,
        other_customer_id: uuid.UUID | None = None,
        e164: str | None = None,
    ) -> None:
        """A person's durable decision: never_link, never_merge, pin_link, shared, not_shared."""

    def ledger(self, **entry: Any) -> None:
        """Append to the identity ledger (columns of identity_ledger)."""

    def conflict(self, **values: Any) -> None:
        """Ask a person (columns of identity_conflicts; open)."""

    def open_conflict_exists(
        self,
        kind: str,
        identity_id: uuid.UUID,
        e164: str | None,
        customer_id: uuid.UUID | None,
        other_customer_id: uuid.UUID | None,
    ) -> bool:
        """Is the same question already waiting for a person?"""

    def resolve_conflict(self, conflict_id: int, at: datetime) -> bool:
        """Mark a question answered; False when there is no such conflict."""

    def consent(self, **values: Any) -> None:
        """Append a consent signal (columns of consent_ledger; once per idempotency key)."""

    # --- privacy --------------------------------------------------------------------------
    def fences(self, subjects: Iterable[str]) -> dict[str, datetime]:
        """When each of these subjects (keyed hashes of a phone, a thread key or a channel
        identity) was last erased; a subject never erased is absent."""

    def fence(
        self,
        subject: str,
        kind: str,
        at: datetime,
        command_id: str,
        opt_outs: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Record an erasure of a subject and the opt-outs it keeps (channel, status, source,
        keyword, at: one suppression row each). Of two erasures of one subject the later is
        kept; an earlier one arriving late (a restore) changes nothing."""

    def cluster(self, customer_id: uuid.UUID) -> Cluster:
        """The person the customer belongs to (see Cluster), as committed: read without locks,
        so the caller can `lock` its keys before the rows are read for change."""

    def customer_erased(self, customer_id: uuid.UUID) -> bool:
        """Was this customer erased?"""

    def erase(self, cluster: Cluster, erasure: Erasure) -> dict[str, list[dict[str, Any]]]:
        """Remove the person's personal data: names and emails, phones and their addresses,
        identities' handles, names and user ids and threads' keys (replaced by their subjects),
        the ledger's and conflicts' numbers and evidence texts (decisions, ids, times, rules and
        actors stay; open questions close), the outbox's copies of their messages, and every
        consent row of their phones and identities. Returns, per phone and identity subject,
        the opt-outs the consent API gave (for `fence` to keep). The erased rows keep their ids
        and links, so a late event about them still finds an erased owner. Raises
        ConcurrentWriteError when the cluster changed since it was read."""

    def outbox_get(self, key: str) -> list[dict[str, Any]] | None:
        """The events stored for a message or command already applied, else None."""

    def outbox_put(
        self,
        key: str,
        thread_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        events: str,
        at: datetime,
    ) -> None:
        """Store what a message or command produced, once: `events`, the JSON array of its
        linked events as sent (encoded once, for the outbox and for Kafka alike)."""

    def refuse_command(self, key: str, reason: str, at: datetime) -> None:
        """Record once, under the command's outbox key, that a command was refused and why: it
        produced no events, and a redelivery of it changes nothing."""


class UnitOfWork(Protocol):
    """One transaction: `with factory() as uow: ...; uow.commit()`. Leaving the block without
    commit rolls everything back; commit writes every change or raises (then nothing is written)."""

    @property
    def identities(self) -> IdentityRepository: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
