"""The identity repository for one resolver batch: read once, decide in memory, write once.

`IdentityStore` runs one or more SQL statements per call: exact, but ~20 round trips per
message. `BatchStore` is the same repository with the same answers for a whole batch:

- `prefetch` loads, in a handful of statements, every row the batch's messages can touch (their
  identities and those identities' threads, their threads, their phones, the customers all of
  these point to with their merge chains, the outbox rows, the open conflicts and the admin
  constraints of their identities), locking each row (FOR UPDATE) as the per-call reads do;
- the hot calls (upserts, links, claims, ledger and outbox appends) read and change those rows
  in memory, and `flush` writes the final state of each changed row, and every appended row,
  with one statement per table;
- the rare calls (merges, admin paths) first flush, then run the per-call SQL of `IdentityStore`,
  so they see exactly what the per-call store would have seen, races included.

A row the batch believed new but which another transaction inserted meanwhile (a writer that
took no advisory lock, e.g. an admin command in another worker) makes `flush` raise
`StaleBatchError`: the resolver rolls the whole batch back and runs it again with the per-call
store, which decides against the committed rows. Nothing is written that the per-call store
would not have written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, any_, cast, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Text

from schema import tables as t
from workers.adapters import bulk_sql
from workers.adapters.identity_store import MAX_MERGE_HOPS, IdentityStore, ThreadRow, _better_name
from workers.domain.identity import CustomerState, IdentityState, PhoneState

Row = dict[str, Any]


class StaleBatchError(RuntimeError):
    """A row the batch decided about changed under it; run the batch again, per call."""


# Tracked columns per table: the ones the resolver reads or writes (others keep their values).
CUSTOMER_COLS = ("id", "name", "email", "name_at", "email_at", "created_at", "merged_into")
PHONE_COLS = ("e164", "customer_id", "shared", "shared_by", "normalizer_version", "created_at")
IDENTITY_COLS = (
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
)
THREAD_COLS = (
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
)
LEDGER_COLS = (
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
)
CONFLICT_COLS = (
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
)
CONSENT_COLS = ("e164", "channel", "status", "source", "keyword", "idempotency_key", "evidence", "at")
OUTBOX_COLS = ("idempotency_key", "thread_id", "customer_id", "events", "resolved_at")
ADDRESS_COLS = ("channel", "address", "e164", "normalizer_version")


class _Table:
    """Cached rows of one table: None marks a row known to be absent."""

    def __init__(self, table: Table, key: str, columns: tuple[str, ...]) -> None:
        self.table = table
        self.name = table.name
        self.key = key
        self.columns = columns
        self.rows: dict[Any, Row | None] = {}
        self.new: set[Any] = set()
        self.dirty: set[Any] = set()

    def put_loaded(self, row: Row) -> None:
        self.rows[row[self.key]] = row

    def add(self, row: Row) -> Row:
        key = row[self.key]
        self.rows[key] = row
        self.new.add(key)
        return row

    def touch(self, key: Any) -> None:
        if key not in self.new:
            self.dirty.add(key)


class BatchStore(IdentityStore):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._customers = _Table(t.customers, "id", CUSTOMER_COLS)
        self._phones = _Table(t.phones, "e164", PHONE_COLS)
        self._identities = _Table(t.identities, "id", IDENTITY_COLS)
        self._threads = _Table(t.threads, "id", THREAD_COLS)
        # Identities whose every thread is in the cache (prefetched by identity), so their
        # unlinked threads can be listed from memory.
        self._threads_complete: set[uuid.UUID] = set()
        self._outbox: dict[str, list[dict[str, Any]]] = {}
        self._outbox_known: set[str] = set()
        self._never_link: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._never_merge: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._constraint_customers: set[uuid.UUID] = set()
        # Open conflicts of the prefetched identities (and those this batch adds), while valid.
        self._open_conflicts: list[tuple[Any, ...]] | None = None
        self._conflict_identities: set[uuid.UUID] = set()
        self._ledger: list[Row] = []
        self._conflicts: list[Row] = []
        self._consent: list[Row] = []
        self._consent_keys: set[str] = set()
        self._outbox_rows: list[Row] = []
        self._addresses: dict[tuple[str, str], Row] = {}
        self._dbapi_cursor: Any = None

    # --- loading -----------------------------------------------------------------------------
    def prefetch(
        self,
        identity_ids: Iterable[uuid.UUID],
        thread_ids: Iterable[uuid.UUID],
        phones: Iterable[str],
        customer_ids: Iterable[uuid.UUID],
        outbox_keys: Iterable[str],
    ) -> None:
        """Load and lock what a batch may touch (one statement per table, rows in key order).

        Absent rows are remembered as absent; constraints and open conflicts are read for every
        identity and customer id the batch may use, whether or not it exists yet."""
        ids = sorted(set(identity_ids))
        tids = sorted(set(thread_ids))
        e164s = sorted(set(phones))
        keys = sorted(set(outbox_keys))
        o = t.resolved_messages.c
        if keys:
            for key, events in self.conn.execute(
                select(o.idempotency_key, o.events).where(_any_of(o.idempotency_key, keys))
            ):
                self._outbox[key] = events
        self._outbox_known.update(keys)
        th = t.threads.c
        for tid in tids:
            self._threads.rows.setdefault(tid, None)
        for row in self._select(self._threads, or_(_any_of(th.id, tids), _any_of(th.identity_id, ids))):
            self._threads.put_loaded(row)
        self._threads_complete.update(ids)
        for iid in ids:
            self._identities.rows.setdefault(iid, None)
        for row in self._select(self._identities, _any_of(t.identities.c.id, ids)):
            self._identities.put_loaded(row)
        for e164 in e164s:
            self._phones.rows.setdefault(e164, None)
        for row in self._select(self._phones, _any_of(t.phones.c.e164, e164s)):
            self._phones.put_loaded(row)
        wanted = set(customer_ids)
        for table in (self._identities, self._threads, self._phones):
            wanted.update(r["customer_id"] for r in table.rows.values() if r is not None and r["customer_id"])
        self._load_customers(wanted)
        self._load_constraints(ids, sorted(wanted | {c for c, r in self._customers.rows.items() if r}))
        self._load_open_conflicts(ids)

    def _select(self, table: _Table, where: ColumnElement[bool]) -> list[Row]:
        columns = [table.table.c[name] for name in table.columns]
        statement = select(*columns).where(where).order_by(columns[0]).with_for_update()
        return [dict(zip(table.columns, values, strict=True)) for values in self.conn.execute(statement)]

    def _load_customers(self, wanted: Iterable[uuid.UUID]) -> None:
        """Customers and their merge chains (one statement per hop; chains are short)."""
        pending = {c for c in wanted if c not in self._customers.rows}
        for _ in range(MAX_MERGE_HOPS):
            if not pending:
                return
            for c in pending:
                self._customers.rows[c] = None
            rows = self._select(self._customers, _any_of(t.customers.c.id, sorted(pending)))
            for row in rows:
                self._customers.put_loaded(row)
            pending = {
                r["merged_into"]
                for r in rows
                if r["merged_into"] is not None and r["merged_into"] not in self._customers.rows
            }

    def _load_constraints(self, identity_ids: Sequence[uuid.UUID], customer_ids: Sequence[uuid.UUID]) -> None:
        for iid in identity_ids:
            self._never_link.setdefault(iid, set())
        for cid in customer_ids:
            self._never_merge.setdefault(cid, set())
        self._constraint_customers.update(customer_ids)
        c = t.constraints.c
        rows = self.conn.execute(
            select(c.kind, c.identity_id, c.customer_id, c.other_customer_id).where(
                and_(
                    c.active.is_(True),
                    c.kind.in_(("never_link", "never_merge")),
                    or_(
                        _any_of(c.identity_id, identity_ids),
                        _any_of(c.customer_id, customer_ids),
                        _any_of(c.other_customer_id, customer_ids),
                    ),
                )
            )
        )
        for kind, identity_id, customer_id, other in rows:
            if kind == "never_link":
                if identity_id in self._never_link and customer_id is not None:
                    self._never_link[identity_id].add(customer_id)
                continue
            for a, b in ((customer_id, other), (other, customer_id)):
                if a in self._never_merge and b is not None:
                    self._never_merge[a].add(b)

    def _load_open_conflicts(self, identity_ids: Sequence[uuid.UUID]) -> None:
        c = t.conflicts.c
        self._conflict_identities = set(identity_ids)
        self._open_conflicts = [
            (kind, identity_id, e164, customer_id, other)
            for kind, identity_id, e164, customer_id, other in self.conn.execute(
                select(c.kind, c.identity_id, c.e164, c.customer_id, c.other_customer_id).where(
                    and_(c.status == "open", _any_of(c.identity_id, identity_ids))
                )
            )
        ]

    def _row(self, table: _Table, key: Any) -> Row | None:
        """A cached row, loading (and locking) it on a miss. A miss never needs a flush: every
        row this batch wrote is in the cache."""
        if key in table.rows:
            return table.rows[key]
        found = self._select(table, table.table.c[table.key] == key)
        table.rows[key] = found[0] if found else None
        return table.rows[key]

    def _customer_row(self, customer_id: uuid.UUID) -> Row | None:
        if customer_id not in self._customers.rows:
            self._load_customers([customer_id])
        return self._customers.rows[customer_id]

    # --- customers ---------------------------------------------------------------------------
    def customer(self, customer_id: uuid.UUID | None) -> CustomerState | None:
        if customer_id is None:
            return None
        row = self._customer_row(customer_id)
        return CustomerState(row["id"], row["created_at"], row["name"]) if row else None

    def effective(self, customer_id: uuid.UUID | None) -> uuid.UUID | None:
        current = customer_id
        for _ in range(MAX_MERGE_HOPS):
            if current is None:
                return None
            row = self._customer_row(current)
            nxt = row["merged_into"] if row else None
            if nxt is None:
                return current
            current = nxt
        return current

    def create_customer(
        self, customer_id: uuid.UUID, at: datetime, name: str | None, email: str | None
    ) -> bool:
        if self._customer_row(customer_id) is not None:
            return False
        self._customers.add(
            {
                "id": customer_id,
                "name": name,
                "email": email,
                "name_at": at if name else None,
                "email_at": at if email else None,
                "created_at": at,
                "merged_into": None,
            }
        )
        return True

    def customer_exists(self, customer_id: uuid.UUID) -> bool:
        return self._customer_row(customer_id) is not None

    def note_customer_details(
        self, customer_id: uuid.UUID, name: str | None, email: str | None, at: datetime
    ) -> bool:
        row = self._customer_row(customer_id)
        if row is None:
            return False
        changed = False
        if name and _better_name(name, at, row["name"], row["name_at"]):
            row["name"], row["name_at"] = name, at
            changed = True
        if email and (not row["email"] or row["email_at"] is None or at < row["email_at"]):
            row["email"], row["email_at"] = email, at
            changed = True
        if at < row["created_at"]:
            row["created_at"] = at
            changed = True
        if changed:
            self._customers.touch(customer_id)
        return changed

    def set_merged_into(
        self, customer_id: uuid.UUID, survivor: uuid.UUID | None, at: datetime | None = None
    ) -> None:
        if survivor is None or at is None:
            # An unmerge, or a merge at the database's clock: admin paths, per call.
            self.flush()
            super().set_merged_into(customer_id, survivor, at)
            self._customers.rows.pop(customer_id, None)
            self._open_conflicts = None
            return
        row = self._customer_row(customer_id)
        if row is not None:
            row["merged_into"] = survivor
            self._customers.touch(customer_id)
        # The merge answers the open questions about these two being one person: those in the
        # database now, those still in memory as they are flushed.
        c = t.conflicts.c
        pair = or_(
            and_(c.customer_id == customer_id, c.other_customer_id == survivor),
            and_(c.customer_id == survivor, c.other_customer_id == customer_id),
        )
        self.conn.execute(
            update(t.conflicts)
            .where(and_(c.status == "open", pair))
            .values(status="resolved", resolved_at=at)
        )
        both = {customer_id, survivor}
        for pending in self._conflicts:
            if (
                pending["status"] == "open"
                and {pending.get("customer_id"), pending.get("other_customer_id")} == both
            ):
                pending["status"], pending["resolved_at"] = "resolved", at
        if self._open_conflicts is not None:
            self._open_conflicts = [q for q in self._open_conflicts if {q[3], q[4]} != both]

    def delete_customer(self, customer_id: uuid.UUID) -> None:
        if customer_id in self._customers.new:
            self._customers.new.discard(customer_id)  # never written: forget it
        else:
            self._flush_rows(self._customers)
            super().delete_customer(customer_id)
        self._customers.dirty.discard(customer_id)
        self._customers.rows[customer_id] = None

    def merged_members(self, survivor: uuid.UUID) -> list[uuid.UUID]:
        self.flush()
        return super().merged_members(survivor)

    # --- phones ------------------------------------------------------------------------------
    def phone(self, e164: str) -> PhoneState:
        row = self._row(self._phones, e164)
        if row is None:
            return PhoneState(e164)
        owner_id = self.effective(row["customer_id"])
        return PhoneState(e164, self.customer(owner_id), bool(row["shared"]), holder=row["customer_id"])

    def phone_claimants(self, e164: str, holder: uuid.UUID | None) -> tuple[str, ...]:
        """As the per-call store answers after a flush, without the flush: the database's rows
        overlaid with this batch's. A cached identity row is the truth for that identity (it was
        locked when read, and only this batch changed it); pending conflicts are in memory."""
        i, c = t.identities.c, t.conflicts.c
        names: set[str | None] = set()
        if holder is not None:
            for identity_id, display, handle in self.conn.execute(
                select(i.id, i.display_name, i.handle).where(i.customer_id == holder)
            ):
                if self._identities.rows.get(identity_id) is None:
                    names.add(display or handle)
            for row in self._identities.rows.values():
                if row is not None and row["customer_id"] == holder:
                    names.add(row["display_name"] or row["handle"])
        kinds = ("shared_phone_candidate", "shared_phone")
        waiting = self.conn.execute(
            select(i.id, i.display_name, i.handle)
            .join(t.conflicts, c.identity_id == i.id)
            .where(and_(c.status == "open", c.e164 == e164, c.kind.in_(kinds)))
        ).all()
        names.update(
            self._identity_name(identity_id, (display, handle)) for identity_id, display, handle in waiting
        )
        names.update(
            self._identity_name(pending["identity_id"], None)
            for pending in self._conflicts
            if pending.get("identity_id") is not None
            and pending["status"] == "open"
            and pending.get("e164") == e164
            and pending.get("kind") in kinds
        )
        return tuple(sorted(name for name in names if name))

    def _identity_name(
        self, identity_id: uuid.UUID, stored: tuple[str | None, str | None] | None
    ) -> str | None:
        """An identity's name as the batch sees it: its cached row, else what is stored (read
        now when not given; None when no such identity, as the per-call join finds none)."""
        cached = self._identities.rows.get(identity_id)
        if cached is not None:
            name: str | None = cached["display_name"] or cached["handle"]
            return name
        if stored is None:
            i = t.identities.c
            found = self.conn.execute(
                select(i.display_name, i.handle).where(i.id == identity_id)
            ).one_or_none()
            if found is None:
                return None
            stored = (found.display_name, found.handle)
        return stored[0] or stored[1]

    def claim_phone(self, e164: str, customer_id: uuid.UUID, at: datetime, version: str) -> uuid.UUID | None:
        row = self._row(self._phones, e164)
        if row is None:
            # Nobody had this number when the batch read it, and the batch holds the phone's
            # advisory lock, so no other resolver claims it first. A writer that takes no such
            # lock (an admin command in another worker) and gets there first shows at flush as
            # an insert that conflicts: StaleBatchError, and the batch is decided again per call.
            self._phones.add(_phone_row(e164, customer_id, at, version))
            return customer_id
        if row["customer_id"] is None and not row["shared"]:
            row["customer_id"] = customer_id
            self._phones.touch(e164)
        current: uuid.UUID | None = row["customer_id"]
        return current

    def ensure_phone(self, e164: str, at: datetime, version: str) -> None:
        if self._row(self._phones, e164) is None:
            self._phones.add(_phone_row(e164, None, at, version))

    def record_address(self, channel: str, address: str, e164: str, version: str, at: datetime) -> None:
        self.ensure_phone(e164, at, version)
        self._addresses.setdefault(
            (channel, address),
            {"channel": channel, "address": address, "e164": e164, "normalizer_version": version},
        )

    def set_shared(self, e164: str, shared: bool, by: str, at: datetime, version: str) -> uuid.UUID | None:
        self.flush()
        previous = super().set_shared(e164, shared, by, at, version)
        self._phones.rows.pop(e164, None)
        return previous

    def phones_of(self, customer_id: uuid.UUID) -> list[str]:
        self.flush()
        return super().phones_of(customer_id)

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
        row = self._row(self._identities, identity_id)
        if row is None:
            self._identities.add(
                {
                    "id": identity_id,
                    "platform": platform,
                    "business_account": account,
                    "provider_user_id": user_id,
                    "handle": handle,
                    "display_name": name,
                    "customer_id": None,
                    "confidence": 0.0,
                    "verification": "unverified",
                    "decided_by": None,
                    "first_seen_at": at,
                    "last_seen_at": at,
                }
            )
        else:
            last = _greatest(row["last_seen_at"], at)
            new_handle = handle if handle is not None else row["handle"]
            new_name = name if name is not None else row["display_name"]
            if (last, new_handle, new_name) != (row["last_seen_at"], row["handle"], row["display_name"]):
                row["last_seen_at"], row["handle"], row["display_name"] = last, new_handle, new_name
                self._identities.touch(identity_id)
        return self.identity(identity_id)

    def identity(self, identity_id: uuid.UUID) -> IdentityState:
        row = self._require(self._identities, identity_id)
        customer = self.customer(self.effective(row["customer_id"]))
        return IdentityState(
            identity_id,
            customer,
            row["decided_by"],
            row["verification"],
            row["display_name"] or row["handle"],
        )

    def identity_owner(self, identity_id: uuid.UUID) -> uuid.UUID | None:
        row = self._row(self._identities, identity_id)
        return row["customer_id"] if row else None

    def link_identity(
        self,
        identity_id: uuid.UUID,
        customer_id: uuid.UUID | None,
        confidence: float,
        decided_by: str | None = None,
        verification: str | None = None,
    ) -> None:
        row = self._row(self._identities, identity_id)
        if row is None:
            return  # an UPDATE of no row
        row["customer_id"], row["confidence"] = customer_id, confidence
        if decided_by is not None:
            row["decided_by"] = decided_by
        if verification is not None:
            row["verification"] = verification
        self._identities.touch(identity_id)

    def raise_confidence(self, identity_id: uuid.UUID, confidence: float) -> None:
        row = self._row(self._identities, identity_id)
        if row is not None and row["confidence"] < confidence:
            row["confidence"] = confidence
            self._identities.touch(identity_id)

    def set_verification(self, identity_id: uuid.UUID, verification: str, by: str) -> None:
        row = self._row(self._identities, identity_id)
        if row is not None:
            row["verification"], row["decided_by"] = verification, by
            self._identities.touch(identity_id)

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
        row = self._row(self._threads, thread_id)
        if row is None:
            self._threads.add(
                {
                    "id": thread_id,
                    "thread_key": thread_key,
                    "channel": channel,
                    "business_account": account,
                    "identity_id": identity_id,
                    "customer_id": None,
                    "decided_by": None,
                    "first_message_at": at,
                    "last_message_at": at,
                    "message_count": increment,
                }
            )
        else:
            row["first_message_at"] = _least(row["first_message_at"], at)
            row["last_message_at"] = _greatest(row["last_message_at"], at)
            row["message_count"] += increment
            if row["identity_id"] is None:
                row["identity_id"] = identity_id
            self._threads.touch(thread_id)
        return self.thread(thread_id)

    def thread(self, thread_id: uuid.UUID) -> ThreadRow:
        row = self._require(self._threads, thread_id)
        return ThreadRow(
            row["id"],
            row["customer_id"],
            row["identity_id"],
            row["decided_by"],
            row["first_message_at"],
            row["message_count"],
            row["last_message_at"],
        )

    def link_thread(
        self, thread_id: uuid.UUID, customer_id: uuid.UUID | None, decided_by: str | None = None
    ) -> None:
        row = self._row(self._threads, thread_id)
        if row is None:
            return
        row["customer_id"] = customer_id
        if decided_by is not None:
            row["decided_by"] = decided_by
        self._threads.touch(thread_id)

    def unlinked_threads_of_identity(self, identity_id: uuid.UUID) -> list[ThreadRow]:
        if identity_id not in self._threads_complete:
            self.flush()
            return super().unlinked_threads_of_identity(identity_id)
        ids = sorted(
            r["id"]
            for r in self._threads.rows.values()
            if r is not None
            and r["identity_id"] == identity_id
            and r["customer_id"] is None
            and r["decided_by"] is None
        )
        return [self.thread(thread_id) for thread_id in ids]

    def never_link(self, identity_id: uuid.UUID, customer_id: uuid.UUID | None) -> frozenset[uuid.UUID]:
        # Constraints are written only by admin commands, never by this batch: no flush needed.
        if identity_id not in self._never_link or (
            customer_id is not None and customer_id not in self._constraint_customers
        ):
            return super().never_link(identity_id, customer_id)
        blocked = set(self._never_link[identity_id])
        if customer_id is not None:
            blocked |= self._never_merge.get(customer_id, set())
        return frozenset(blocked)

    def add_constraint(self, kind: str, by: str, at: datetime, **values: Any) -> None:  # type: ignore[override]
        super().add_constraint(kind, by, at, **values)
        # The cached never-link answers may be stale now: ask the database from here on.
        self._never_link.clear()
        self._constraint_customers.clear()

    # --- ledger, conflicts, consent, outbox ---------------------------------------------------
    def ledger(self, **values: Any) -> None:
        self._ledger.append(_checked(values, LEDGER_COLS, evidence={}))

    def conflict(self, **values: Any) -> None:
        self._conflicts.append(_checked(values, CONFLICT_COLS, evidence={}, status="open"))
        if self._open_conflicts is not None:
            self._open_conflicts.append(
                (
                    values.get("kind"),
                    values.get("identity_id"),
                    values.get("e164"),
                    values.get("customer_id"),
                    values.get("other_customer_id"),
                )
            )

    def open_conflict_exists(
        self,
        kind: str,
        identity_id: uuid.UUID | None,
        e164: str | None,
        customer_id: uuid.UUID | None,
        other_customer_id: uuid.UUID | None,
    ) -> bool:
        if self._open_conflicts is None or identity_id not in self._conflict_identities:
            self.flush()
            return super().open_conflict_exists(kind, identity_id, e164, customer_id, other_customer_id)
        wanted = (kind, identity_id, e164, customer_id, other_customer_id)
        return wanted in self._open_conflicts

    def consent(self, **values: Any) -> bool:
        key = values.get("idempotency_key")
        if key is not None and key in self._consent_keys:
            return False
        if key is not None:
            self._consent_keys.add(key)
        self._consent.append(_checked(values, CONSENT_COLS, evidence={}))
        return True

    def outbox_get(self, key: str) -> list[dict[str, Any]] | None:
        if key not in self._outbox_known:
            self.flush()
            return super().outbox_get(key)
        return self._outbox.get(key)

    def outbox_put(
        self,
        key: str,
        thread_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        events: list[dict[str, Any]],
        at: datetime,
        encoded: str | None = None,
    ) -> None:
        if key in self._outbox:
            return  # ON CONFLICT DO NOTHING
        self._outbox[key] = events
        self._outbox_known.add(key)
        self._outbox_rows.append(
            {
                "idempotency_key": key,
                "thread_id": thread_id,
                "customer_id": customer_id,
                "events": bulk_sql.Encoded(encoded) if encoded is not None else events,
                "resolved_at": at,
            }
        )

    # --- writing -----------------------------------------------------------------------------
    @property
    def _cursor(self) -> Any:
        """A DBAPI cursor on the transaction's own connection (bulk statements skip SQLAlchemy)."""
        if self._dbapi_cursor is None:
            self._dbapi_cursor = self.conn.connection.cursor()
        return self._dbapi_cursor

    def flush(self) -> None:
        """Write every change so far: row tables in foreign-key order, then the appends."""
        for table in (self._customers, self._phones, self._identities, self._threads):
            self._flush_rows(table)
        cursor = self._cursor
        if self._addresses:
            bulk_sql.insert(
                cursor,
                "phone_addresses",
                ADDRESS_COLS,
                list(self._addresses.values()),
                "ON CONFLICT DO NOTHING",
            )
            self._addresses.clear()
        if self._consent:
            tail = "ON CONFLICT (idempotency_key) DO NOTHING"
            bulk_sql.insert(cursor, "consent_ledger", CONSENT_COLS, self._consent, tail)
            self._consent.clear()
        # Append-only rows no constraint refuses (outbox keys were read absent, and every writer
        # of a message holds its thread's advisory lock): COPY, the cheapest way in.
        for name, columns, rows in (
            ("identity_ledger", LEDGER_COLS, self._ledger),
            ("identity_conflicts", CONFLICT_COLS, self._conflicts),
            ("resolved_messages", OUTBOX_COLS, self._outbox_rows),
        ):
            if rows:
                bulk_sql.copy(cursor, name, columns, rows)
                rows.clear()

    def _flush_rows(self, table: _Table) -> None:
        cursor = self._cursor
        new = [row for k in table.new if (row := table.rows.get(k)) is not None]
        if new:
            # RETURNING tells the rows inserted from those another transaction inserted first.
            tail = f"ON CONFLICT ({table.key}) DO NOTHING RETURNING {table.key}"
            inserted = bulk_sql.insert(cursor, table.name, table.columns, new, tail)
            if len(inserted) != len(new):
                raise StaleBatchError(f"{len(new) - len(inserted)} new {table.name} row(s) already existed")
        dirty = [row for k in table.dirty if (row := table.rows.get(k)) is not None]
        if dirty:
            bulk_sql.update(cursor, table.name, table.key, table.columns, dirty)
        table.new.clear()
        table.dirty.clear()

    @staticmethod
    def _require(table: _Table, key: Any) -> Row:
        row = table.rows.get(key)
        if row is None:
            raise LookupError(f"{table.name} row {key} not found")
        return row


def _phone_row(e164: str, customer_id: uuid.UUID | None, at: datetime, version: str) -> Row:
    """A phones row as the batch first writes it (unshared)."""
    return {
        "e164": e164,
        "customer_id": customer_id,
        "shared": False,
        "shared_by": None,
        "normalizer_version": version,
        "created_at": at,
    }


def _any_of(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`column = ANY(CAST(:values AS type[]))`: one parameter for a batch's hundreds of keys,
    where IN renders, quotes and casts one bind per key (a tenth of the resolver's CPU)."""
    array = literal([str(v) for v in values], ARRAY(Text))
    return column == any_(cast(array, ARRAY(column.type)))


def _checked(values: Row, columns: tuple[str, ...], **defaults: Any) -> Row:
    """Appended rows name known columns only; an omitted column with a default in the table
    (evidence, a conflict's status) takes it here, so a pending conflict can still be resolved
    in memory by a merge."""
    unknown = set(values) - set(columns)
    if unknown:
        raise TypeError(f"unknown column(s) {sorted(unknown)}")
    return {**defaults, **{k: v for k, v in values.items() if v is not None or k not in defaults}}


def _greatest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def _least(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current
