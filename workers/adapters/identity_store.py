"""SQLAlchemy repository of the identity tables, used inside one resolver transaction.

Every read that leads to a write locks its row (FOR UPDATE), and every insert that races
another worker goes through ON CONFLICT, so the database stays the backstop for the
single-writer-per-phone rule when partitions move between workers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from schema import tables as t
from workers.domain.identity import CustomerState, IdentityState, PhoneState

MAX_MERGE_HOPS = 32
# Advisory locks: a namespace of our own (two-int form), and how many buckets keys fold into.
LOCK_SPACE = 0x5055  # "PU"
# Lock ids: 31-bit hashes of the keys. With 1,024 buckets (as before) a batch of 500 messages
# (~1,500 keys) held most of them, so two workers' batches nearly always shared one and ran one
# after the other; in 2^31 two batches of distinct keys collide about once in a thousand.
LOCK_IDS = 1 << 31


@dataclass(frozen=True)
class ThreadRow:
    id: uuid.UUID
    customer_id: uuid.UUID | None
    identity_id: uuid.UUID | None
    decided_by: str | None
    first_message_at: datetime | None
    message_count: int
    last_message_at: datetime | None = None


class IdentityStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_keys(self, keys: Iterable[str]) -> None:
        """Hold transaction-scoped advisory locks on the phones and threads a batch touches.

        Kafka gives one resolver each phone, but while partitions move, the old owner may still
        be finishing a batch the new owner has started: the lock makes the second wait for the
        first's commit, and then its outbox check sees the message as done. One lock per
        distinct key (a message has up to three; PostgreSQL's lock table, max_locks_per_transaction
        x max_connections, must hold resolve_batch_size x 3 per worker), taken in sorted order in
        one statement so two batches never deadlock on each other.
        """
        buckets = sorted({_bucket(key) for key in keys})
        if buckets:
            self.conn.execute(
                text(
                    "SELECT count(pg_advisory_xact_lock(:space, b))"
                    " FROM (SELECT unnest(CAST(:buckets AS int[])) AS b ORDER BY 1) AS ordered"
                ),
                {"space": LOCK_SPACE, "buckets": buckets},
            )

    def flush(self) -> None:
        """Nothing waits: every call has written already (BatchStore defers its writes)."""

    # --- customers ---------------------------------------------------------------------------
    def customer(self, customer_id: uuid.UUID | None) -> CustomerState | None:
        if customer_id is None:
            return None
        row = self.conn.execute(
            select(t.customers.c.id, t.customers.c.created_at, t.customers.c.name).where(
                t.customers.c.id == customer_id
            )
        ).one_or_none()
        return CustomerState(row.id, row.created_at, row.name) if row else None

    def effective(self, customer_id: uuid.UUID | None) -> uuid.UUID | None:
        """Follow merge pointers to the surviving customer."""
        current = customer_id
        for _ in range(MAX_MERGE_HOPS):
            if current is None:
                return None
            nxt = self.conn.execute(
                select(t.customers.c.merged_into).where(t.customers.c.id == current)
            ).scalar_one_or_none()
            if nxt is None:
                return current
            current = nxt
        return current

    def create_customer(
        self, customer_id: uuid.UUID, at: datetime, name: str | None, email: str | None
    ) -> bool:
        result = self.conn.execute(
            insert(t.customers)
            .values(
                id=customer_id,
                created_at=at,
                name=name,
                email=email,
                name_at=at if name else None,
                email_at=at if email else None,
            )
            .on_conflict_do_nothing(index_elements=["id"])
        )
        return bool(result.rowcount)

    def customer_exists(self, customer_id: uuid.UUID) -> bool:
        return (
            self.conn.execute(select(t.customers.c.id).where(t.customers.c.id == customer_id)).first()
            is not None
        )

    def note_customer_details(
        self, customer_id: uuid.UUID, name: str | None, email: str | None, at: datetime
    ) -> bool:
        """Keep the details a replay in any order would keep: a real name beats an @handle, and
        between two of the same kind the earlier observation wins; the customer dates from its
        earliest message. Never erases a detail."""
        c = t.customers.c
        row = self.conn.execute(
            select(c.name, c.email, c.name_at, c.email_at, c.created_at).where(c.id == customer_id)
        ).one_or_none()
        if row is None:
            return False
        values: dict[str, Any] = {}
        if name and _better_name(name, at, row.name, row.name_at):
            values |= {"name": name, "name_at": at}
        if email and (not row.email or row.email_at is None or at < row.email_at):
            values |= {"email": email, "email_at": at}
        if at < row.created_at:
            values["created_at"] = at
        if values:
            self.conn.execute(update(t.customers).where(c.id == customer_id).values(**values))
        return bool(values)

    def set_merged_into(
        self, customer_id: uuid.UUID, survivor: uuid.UUID | None, at: datetime | None = None
    ) -> None:
        self.conn.execute(
            update(t.customers).where(t.customers.c.id == customer_id).values(merged_into=survivor)
        )
        if survivor is not None:
            # A merge answers the open questions about these two being one person: the review
            # queue should not keep asking (and a replay that merged first never asked).
            c = t.conflicts.c
            pair = or_(
                and_(c.customer_id == customer_id, c.other_customer_id == survivor),
                and_(c.customer_id == survivor, c.other_customer_id == customer_id),
            )
            self.conn.execute(
                update(t.conflicts)
                .where(and_(c.status == "open", pair))
                .values(status="resolved", resolved_at=at if at is not None else func.now())
            )

    def delete_customer(self, customer_id: uuid.UUID) -> None:
        self.conn.execute(delete(t.customers).where(t.customers.c.id == customer_id))

    def merged_members(self, survivor: uuid.UUID) -> list[uuid.UUID]:
        return list(
            self.conn.execute(select(t.customers.c.id).where(t.customers.c.merged_into == survivor)).scalars()
        )

    # --- phones ------------------------------------------------------------------------------
    def phone(self, e164: str) -> PhoneState:
        row = self.conn.execute(
            select(t.phones.c.customer_id, t.phones.c.shared).where(t.phones.c.e164 == e164).with_for_update()
        ).one_or_none()
        if row is None:
            return PhoneState(e164)
        owner_id = self.effective(row.customer_id)
        return PhoneState(e164, self.customer(owner_id), bool(row.shared), holder=row.customer_id)

    def phone_claimants(self, e164: str, holder: uuid.UUID | None) -> tuple[str, ...]:
        """Names of the people who claimed a phone: the identities linked to the customer row
        holding it, and those waiting for review on it (sorted, so decisions are replayable)."""
        names: set[str] = set()
        i, c = t.identities.c, t.conflicts.c
        if holder is not None:
            for display, handle in self.conn.execute(
                select(i.display_name, i.handle).where(i.customer_id == holder)
            ).all():
                if display or handle:
                    names.add(display or handle)
        waiting = (
            select(i.display_name, i.handle)
            .join(t.conflicts, c.identity_id == i.id)
            .where(
                and_(
                    c.status == "open",
                    c.e164 == e164,
                    c.kind.in_(("shared_phone_candidate", "shared_phone")),
                )
            )
        )
        for display, handle in self.conn.execute(waiting).all():
            if display or handle:
                names.add(display or handle)
        return tuple(sorted(names))

    def phone_pinned_not_shared(self, e164: str) -> bool:
        """Did a person last say this phone is not shared?"""
        c = t.constraints.c
        latest = self.conn.execute(
            select(c.kind)
            .where(and_(c.e164 == e164, c.active.is_(True), c.kind.in_(("shared", "not_shared"))))
            .order_by(c.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return latest == "not_shared"

    def claim_phone(self, e164: str, customer_id: uuid.UUID, at: datetime, version: str) -> uuid.UUID | None:
        """Give an unowned phone to a customer; returns the owner after the attempt (the
        database unique key decides a race)."""
        self.conn.execute(
            insert(t.phones)
            .values(e164=e164, customer_id=customer_id, created_at=at, normalizer_version=version)
            .on_conflict_do_nothing(index_elements=["e164"])
        )
        self.conn.execute(
            update(t.phones)
            .where(
                and_(t.phones.c.e164 == e164, t.phones.c.customer_id.is_(None), t.phones.c.shared.is_(False))
            )
            .values(customer_id=customer_id)
        )
        owner: uuid.UUID | None = self.conn.execute(
            select(t.phones.c.customer_id).where(t.phones.c.e164 == e164)
        ).scalar_one()
        return owner

    def ensure_phone(self, e164: str, at: datetime, version: str) -> None:
        """Make sure the number has its (possibly unowned) row; waits for a writer inserting it."""
        self.conn.execute(
            insert(t.phones)
            .values(e164=e164, created_at=at, normalizer_version=version)
            .on_conflict_do_nothing(index_elements=["e164"])
        )

    def record_address(self, channel: str, address: str, e164: str, version: str, at: datetime) -> None:
        """Remember the routable address beside its number (an unowned phone row if it is new)."""
        self.ensure_phone(e164, at, version)
        self.conn.execute(
            insert(t.phone_addresses)
            .values(channel=channel, address=address, e164=e164, normalizer_version=version)
            .on_conflict_do_nothing()
        )

    def set_shared(self, e164: str, shared: bool, by: str, at: datetime, version: str) -> uuid.UUID | None:
        """Mark or unmark a phone as shared; returns the owner it had before a mark."""
        previous = self.conn.execute(
            select(t.phones.c.customer_id).where(t.phones.c.e164 == e164).with_for_update()
        ).scalar_one_or_none()
        self.conn.execute(
            insert(t.phones)
            .values(e164=e164, created_at=at, normalizer_version=version)
            .on_conflict_do_nothing(index_elements=["e164"])
        )
        values: dict[str, Any] = {"shared": shared, "shared_by": by if shared else None}
        if shared:
            values["customer_id"] = None
        self.conn.execute(update(t.phones).where(t.phones.c.e164 == e164).values(**values))
        return previous

    def phones_of(self, customer_id: uuid.UUID) -> list[str]:
        return list(
            self.conn.execute(
                select(t.phones.c.e164).where(t.phones.c.customer_id == customer_id).order_by(t.phones.c.e164)
            ).scalars()
        )

    # --- identities and threads --------------------------------------------------------------
    def upsert_identity(
        self,
        identity_id: uuid.UUID,
        platform: str,
        account: str,
        user_id: str,
        handle: str | None,
        name: str | None,
        at: datetime,
    ) -> IdentityState:
        self.conn.execute(
            insert(t.identities)
            .values(
                id=identity_id,
                platform=platform,
                business_account=account,
                provider_user_id=user_id,
                handle=handle,
                display_name=name,
                first_seen_at=at,
                last_seen_at=at,
            )
            .on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "last_seen_at": func.greatest(t.identities.c.last_seen_at, at),
                    "handle": func.coalesce(insert(t.identities).excluded.handle, t.identities.c.handle),
                    "display_name": func.coalesce(
                        insert(t.identities).excluded.display_name, t.identities.c.display_name
                    ),
                },
            )
        )
        return self.identity(identity_id)

    def identity(self, identity_id: uuid.UUID) -> IdentityState:
        row = self.conn.execute(
            select(
                t.identities.c.customer_id,
                t.identities.c.decided_by,
                t.identities.c.verification,
                t.identities.c.display_name,
                t.identities.c.handle,
            )
            .where(t.identities.c.id == identity_id)
            .with_for_update()
        ).one()
        customer = self.customer(self.effective(row.customer_id))
        return IdentityState(
            identity_id, customer, row.decided_by, row.verification, row.display_name or row.handle
        )

    def identity_owner(self, identity_id: uuid.UUID) -> uuid.UUID | None:
        return self.conn.execute(
            select(t.identities.c.customer_id).where(t.identities.c.id == identity_id)
        ).scalar_one_or_none()

    def link_identity(
        self,
        identity_id: uuid.UUID,
        customer_id: uuid.UUID | None,
        confidence: float,
        decided_by: str | None = None,
        verification: str | None = None,
    ) -> None:
        values: dict[str, Any] = {"customer_id": customer_id, "confidence": confidence}
        if decided_by is not None:
            values["decided_by"] = decided_by
        if verification is not None:
            values["verification"] = verification
        self.conn.execute(update(t.identities).where(t.identities.c.id == identity_id).values(**values))

    def raise_confidence(self, identity_id: uuid.UUID, confidence: float) -> None:
        self.conn.execute(
            update(t.identities)
            .where(and_(t.identities.c.id == identity_id, t.identities.c.confidence < confidence))
            .values(confidence=confidence)
        )

    def set_verification(self, identity_id: uuid.UUID, verification: str, by: str) -> None:
        self.conn.execute(
            update(t.identities)
            .where(t.identities.c.id == identity_id)
            .values(verification=verification, decided_by=by)
        )

    def upsert_thread(
        self,
        thread_id: uuid.UUID,
        thread_key: str,
        channel: str,
        account: str,
        identity_id: uuid.UUID | None,
        at: datetime,
        counts_as_message: bool,
    ) -> ThreadRow:
        increment = 1 if counts_as_message else 0
        self.conn.execute(
            insert(t.threads)
            .values(
                id=thread_id,
                thread_key=thread_key,
                channel=channel,
                business_account=account,
                identity_id=identity_id,
                first_message_at=at,
                last_message_at=at,
                message_count=increment,
            )
            .on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "first_message_at": func.least(t.threads.c.first_message_at, at),
                    "last_message_at": func.greatest(t.threads.c.last_message_at, at),
                    "message_count": t.threads.c.message_count + increment,
                    "identity_id": func.coalesce(t.threads.c.identity_id, identity_id),
                },
            )
        )
        return self.thread(thread_id)

    def thread(self, thread_id: uuid.UUID) -> ThreadRow:
        row = self.conn.execute(
            select(
                t.threads.c.id,
                t.threads.c.customer_id,
                t.threads.c.identity_id,
                t.threads.c.decided_by,
                t.threads.c.first_message_at,
                t.threads.c.message_count,
                t.threads.c.last_message_at,
            )
            .where(t.threads.c.id == thread_id)
            .with_for_update()
        ).one()
        return ThreadRow(
            row.id,
            row.customer_id,
            row.identity_id,
            row.decided_by,
            row.first_message_at,
            row.message_count,
            row.last_message_at,
        )

    def link_thread(
        self, thread_id: uuid.UUID, customer_id: uuid.UUID | None, decided_by: str | None = None
    ) -> None:
        values: dict[str, Any] = {"customer_id": customer_id}
        if decided_by is not None:
            values["decided_by"] = decided_by
        self.conn.execute(update(t.threads).where(t.threads.c.id == thread_id).values(**values))

    def unlinked_threads_of_identity(self, identity_id: uuid.UUID) -> list[ThreadRow]:
        rows = self.conn.execute(
            select(t.threads.c.id)
            .where(
                and_(
                    t.threads.c.identity_id == identity_id,
                    t.threads.c.customer_id.is_(None),
                    t.threads.c.decided_by.is_(None),
                )
            )
            .order_by(t.threads.c.id)
        ).scalars()
        return [self.thread(thread_id) for thread_id in rows]

    def never_link(self, identity_id: uuid.UUID, customer_id: uuid.UUID | None) -> frozenset[uuid.UUID]:
        """Customers a person said must never be linked to this identity, or merged with its customer."""
        c = t.constraints.c
        blocked = set(
            self.conn.execute(
                select(c.customer_id).where(
                    and_(c.kind == "never_link", c.active.is_(True), c.identity_id == identity_id)
                )
            ).scalars()
        )
        if customer_id is not None:
            for a, b in self.conn.execute(
                select(c.customer_id, c.other_customer_id).where(
                    and_(
                        c.kind == "never_merge",
                        c.active.is_(True),
                        or_(c.customer_id == customer_id, c.other_customer_id == customer_id),
                    )
                )
            ).all():
                blocked.add(b if a == customer_id else a)
        blocked.discard(None)
        return frozenset(blocked)

    def add_constraint(
        self,
        kind: str,
        by: str,
        at: datetime,
        identity_id: uuid.UUID | None = None,
        thread_id: uuid.UUID | None = None,
        customer_id: uuid.UUID | None = None,
        other_customer_id: uuid.UUID | None = None,
        e164: str | None = None,
    ) -> None:
        self.conn.execute(
            insert(t.constraints).values(
                kind=kind,
                identity_id=identity_id,
                thread_id=thread_id,
                customer_id=customer_id,
                other_customer_id=other_customer_id,
                e164=e164,
                created_by=by,
                created_at=at,
            )
        )

    # --- ledger, conflicts, consent, outbox ---------------------------------------------------
    def ledger(self, **values: Any) -> None:
        self.conn.execute(insert(t.identity_ledger).values(**values))

    def conflict(self, **values: Any) -> None:
        self.conn.execute(insert(t.conflicts).values(**values))

    def open_conflict_exists(
        self,
        kind: str,
        identity_id: uuid.UUID | None,
        e164: str | None,
        customer_id: uuid.UUID | None,
        other_customer_id: uuid.UUID | None,
    ) -> bool:
        """Is the same question already waiting for a person? (Then asking again is noise.)"""
        c = t.conflicts.c

        def same(column: Any, value: Any) -> Any:
            return column.is_(None) if value is None else column == value

        return (
            self.conn.execute(
                select(c.id)
                .where(
                    and_(
                        c.status == "open",
                        c.kind == kind,
                        same(c.identity_id, identity_id),
                        same(c.e164, e164),
                        same(c.customer_id, customer_id),
                        same(c.other_customer_id, other_customer_id),
                    )
                )
                .limit(1)
            ).first()
            is not None
        )

    def consent(self, **values: Any) -> bool:
        result = self.conn.execute(
            insert(t.consent_ledger)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        return bool(result.rowcount)

    def outbox_get(self, key: str) -> list[dict[str, Any]] | None:
        return self.conn.execute(
            select(t.resolved_messages.c.events).where(t.resolved_messages.c.idempotency_key == key)
        ).scalar_one_or_none()

    def outbox_put(
        self,
        key: str,
        thread_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        events: list[dict[str, Any]],
        at: datetime,
        encoded: str | None = None,
    ) -> None:
        """`encoded`: the events as JSON text already (the batch store writes it as is)."""
        self.conn.execute(
            insert(t.resolved_messages)
            .values(
                idempotency_key=key,
                thread_id=thread_id,
                customer_id=customer_id,
                events=events,
                resolved_at=at,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )


def _better_name(name: str, at: datetime, current: str | None, current_at: datetime | None) -> bool:
    if not current:
        return True
    handle, current_handle = name.startswith("@"), current.startswith("@")
    if handle != current_handle:
        return current_handle  # a real name replaces a bare @handle, never the reverse
    return current_at is None or at < current_at


def _bucket(key: str) -> int:
    # A stable hash (not Python's salted hash()): every worker process must agree on buckets.
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % LOCK_IDS
