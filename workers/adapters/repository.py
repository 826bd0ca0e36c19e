"""The identity repository: read a unit of work's rows once, decide in memory, write once.

It implements `IdentityRepository` (workers/domain/ports.py) for one transaction, composed of
two parts: a row cache that reads rows through a `RowStore` on first use (or all of a batch's
at once, `prefetch`) and remembers rows known to be absent, and a write buffer (rows new or
changed in the cache, and rows appended) that `flush` hands to the store, one call per table.
Every rule about what a row becomes lives here; a store only reads and writes rows, so the
PostgreSQL store and the tests' dict store give the same answers by construction.

Rows read in order to be changed are locked by the store until the transaction ends, so the
cached copy stays the truth. A row read as absent cannot be locked: if another transaction
inserts it meanwhile (a writer that does not share the batch's advisory locks, such as an admin
command), the insert at flush fails with `ConcurrentWriteError` and the whole unit of work runs
again, deciding against the committed row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from schema import jsoncodec
from workers.adapters.rows import (
    ADDRESSES,
    CONFLICTS,
    CONSENT,
    CONSTRAINTS,
    CUSTOMERS,
    IDENTITIES,
    LEDGER,
    OUTBOX,
    PHONES,
    THREADS,
    ConflictKey,
    Encoded,
    Row,
    RowStore,
    TableSpec,
    Write,
)
from workers.domain.identity import CustomerState, IdentityState, PhoneState, ThreadState, better_name

MAX_MERGE_HOPS = 32
CLAIM_KINDS = ("shared_phone_candidate", "shared_phone")


class _Cache:
    """Cached rows of one keyed table (None marks a row known to be absent), and which of them
    this unit of work created or changed."""

    __slots__ = ("dirty", "key", "new", "rows", "spec")

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.key = spec.key
        self.rows: dict[Any, Row | None] = {}
        self.new: set[Any] = set()
        self.dirty: set[Any] = set()

    def missing(self, keys: Iterable[Any]) -> list[Any]:
        return sorted({k for k in keys if k not in self.rows}, key=str)

    def loaded(self, asked: Iterable[Any], found: Iterable[Row]) -> None:
        """Rows read for keys not cached before (`asked`; those not found are absent), and rows
        read along with them, kept unless cached already: the first read of a row is this unit
        of work's truth (it was locked then, or created here)."""
        keys = set(asked)
        for row in found:
            key = row[self.key]
            if key in keys or key not in self.rows:
                self.rows[key] = row
        for key in keys:
            self.rows.setdefault(key, None)

    def add(self, row: Row) -> Row:
        key = row[self.key]
        self.rows[key] = row
        self.new.add(key)
        return row

    def touch(self, key: Any) -> None:
        if key not in self.new:
            self.dirty.add(key)

    def changes(self) -> tuple[list[Row], list[Row]]:
        """(new rows, changed rows), in key order, and forgets that they changed."""
        new = [row for k in sorted(self.new, key=str) if (row := self.rows.get(k)) is not None]
        dirty = [row for k in sorted(self.dirty, key=str) if (row := self.rows.get(k)) is not None]
        self.new.clear()
        self.dirty.clear()
        return new, dirty


class Repository:
    """`IdentityRepository` over a `RowStore`, for one unit of work."""

    def __init__(self, store: RowStore) -> None:
        self._store = store
        self._customers = _Cache(CUSTOMERS)
        self._phones = _Cache(PHONES)
        self._identities = _Cache(IDENTITIES)
        self._threads = _Cache(THREADS)
        # identity -> ids of its threads, for identities whose every thread is cached.
        self._threads_of: dict[uuid.UUID, set[uuid.UUID]] = {}
        # Outbox keys read or written: their events (as JSON text when put here), or None when
        # none are stored.
        self._outbox: dict[str, list[dict[str, Any]] | str | None] = {}
        # never_link by identity and never_merge by customer, for the ids read so far.
        self._never_link: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._never_merge: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._phone_marks: dict[str, str | None] = {}
        # Open conflicts by identity, for the identities read so far (pending ones included).
        self._open: dict[uuid.UUID, list[ConflictKey]] = {}
        # The write buffer's appended rows.
        self._ledger: list[Row] = []
        self._conflicts: list[Row] = []
        self._constraints: list[Row] = []
        self._consent: list[Row] = []
        self._consent_keys: set[str] = set()
        self._outbox_rows: list[Row] = []
        self._addresses: dict[tuple[str, str], Row] = {}

    # --- the transaction's scope ----------------------------------------------------------
    def lock(self, keys: Iterable[str]) -> None:
        self._store.lock(sorted(set(keys)))

    def prefetch(
        self,
        identities: Iterable[uuid.UUID],
        threads: Iterable[uuid.UUID],
        phones: Iterable[str],
        customers: Iterable[uuid.UUID],
        outbox_keys: Iterable[str],
    ) -> None:
        """Read (and lock) at once every row a batch may touch: its identities and their
        threads, its threads, its phones, the customers all of these point to (merge chains
        followed), its outbox keys, and the constraints and open conflicts of its identities
        and customers."""
        given = sorted(set(identities), key=str)
        tids = self._threads.missing(threads)
        iids = self._identities.missing(given)
        e164s = self._phones.missing(phones)
        cids = self._customers.missing(customers)
        keys = sorted({k for k in outbox_keys if k not in self._outbox})
        read = self._store.load_batch(given, tids, e164s, cids, keys)
        self._absorb_threads(tids, [i for i in given if i not in self._threads_of], read.threads)
        self._identities.loaded(iids, read.identities)
        self._phones.loaded(e164s, read.phones)
        self._customers.loaded(cids, read.customers)
        for key in keys:
            self._outbox[key] = read.outbox.get(key)
        self._cover_constraints(given, [*cids, *(r["id"] for r in read.customers)], read.never)
        self._cover_open_conflicts(given, read.open_conflicts)
        # Longer merge chains, and the constraints of the customers at their ends (rare).
        self._load_customers(r["merged_into"] for r in read.customers if r["merged_into"] is not None)
        self._load_constraints([], [c for c, row in self._customers.rows.items() if row is not None])

    def flush(self) -> None:
        """Hand every change so far to the store in one call: keyed tables in foreign-key
        order, then the rows inserted once, then the appended rows."""
        writes: list[Write] = []
        for cache in (self._customers, self._phones, self._identities, self._threads):
            new, dirty = cache.changes()
            if new:
                writes.append(Write("insert", cache.spec, new))
            if dirty:
                writes.append(Write("update", cache.spec, dirty))
        if self._addresses:
            writes.append(Write("insert_missing", ADDRESSES, list(self._addresses.values())))
        if self._consent:
            writes.append(Write("insert_missing", CONSENT, self._consent))
        for spec, rows in (
            (LEDGER, self._ledger),
            (CONFLICTS, self._conflicts),
            (CONSTRAINTS, self._constraints),
            (OUTBOX, self._outbox_rows),
        ):
            if rows:
                writes.append(Write("append", spec, rows))
        self._addresses = {}
        self._consent, self._ledger, self._conflicts, self._constraints, self._outbox_rows = (
            [],
            [],
            [],
            [],
            [],
        )
        if writes:
            self._store.write(writes)

    # --- reading rows ---------------------------------------------------------------------
    def _read(self, cache: _Cache, keys: Iterable[Any]) -> None:
        missing = cache.missing(keys)
        if missing:
            cache.loaded(missing, self._store.load(cache.spec, missing))

    def _row(self, cache: _Cache, key: Any) -> Row | None:
        if key not in cache.rows:
            cache.loaded([key], self._store.load(cache.spec, [key]))
        return cache.rows[key]

    def _require(self, cache: _Cache, key: Any) -> Row:
        row = self._row(cache, key)
        if row is None:
            raise LookupError(f"{cache.spec.name} row {key} not found")
        return row

    def _customer_row(self, customer_id: uuid.UUID) -> Row | None:
        if customer_id not in self._customers.rows:
            self._load_customers([customer_id])
        return self._customers.rows[customer_id]

    def _load_customers(self, wanted: Iterable[uuid.UUID]) -> None:
        """Customers and their merge chains (one read per hop; chains are short)."""
        pending = self._customers.missing(wanted)
        for _ in range(MAX_MERGE_HOPS):
            if not pending:
                return
            rows = self._store.load(CUSTOMERS, pending)
            self._customers.loaded(pending, rows)
            pending = self._customers.missing(r["merged_into"] for r in rows if r["merged_into"] is not None)

    def _load_threads(self, thread_ids: Iterable[uuid.UUID], identity_ids: list[uuid.UUID]) -> None:
        tids = self._threads.missing(thread_ids)
        iids = [i for i in identity_ids if i not in self._threads_of]
        if tids or iids:
            self._absorb_threads(tids, iids, self._store.load_threads(tids, iids))

    def _absorb_threads(self, tids: list[uuid.UUID], iids: list[uuid.UUID], found: list[Row]) -> None:
        """Threads read by id (`tids`) and by identity (`iids`, whose threads are then all cached)."""
        asked = set(tids)
        for row in found:
            # The first read of a row is this unit of work's truth (it was locked then, or
            # created here): a thread met again through its identity keeps its cached copy.
            if row["id"] in asked or row["id"] not in self._threads.rows:
                self._threads.rows[row["id"]] = row
        for tid in tids:
            self._threads.rows.setdefault(tid, None)
        covered = set(iids)
        for iid in iids:
            self._threads_of[iid] = set()
        for cached in self._threads.rows.values():
            if cached is not None and cached["identity_id"] in covered:
                self._threads_of[cached["identity_id"]].add(cached["id"])

    def _load_outbox(self, keys: Iterable[str]) -> None:
        wanted = sorted({k for k in keys if k not in self._outbox})
        if wanted:
            found = self._store.outbox(wanted)
            for key in wanted:
                self._outbox[key] = found.get(key)

    def _load_constraints(self, identity_ids: Iterable[uuid.UUID], customer_ids: Iterable[uuid.UUID]) -> None:
        iids = sorted({i for i in identity_ids if i not in self._never_link}, key=str)
        cids = sorted({c for c in customer_ids if c not in self._never_merge}, key=str)
        if iids or cids:
            self._cover_constraints(iids, cids, self._store.never_constraints(iids, cids))

    def _cover_constraints(
        self, identity_ids: Iterable[uuid.UUID], customer_ids: Iterable[uuid.UUID], stored: list[Row]
    ) -> None:
        """Constraints read for these ids, which are then known in full."""
        iids = [i for i in identity_ids if i not in self._never_link]
        cids = [c for c in customer_ids if c not in self._never_merge]
        for iid in iids:
            self._never_link[iid] = set()
        for cid in cids:
            self._never_merge[cid] = set()
        # Constraints this unit of work added are not stored yet: read them from the buffer.
        for row in [*stored, *self._constraints]:
            self._index_constraint(row, iids, cids)

    def _index_constraint(
        self, row: Row, identity_ids: Iterable[uuid.UUID], customer_ids: Iterable[uuid.UUID]
    ) -> None:
        identities, customers = set(identity_ids), set(customer_ids)
        kind, customer, other = row["kind"], row["customer_id"], row["other_customer_id"]
        if kind == "never_link" and row["identity_id"] in identities and customer is not None:
            self._never_link[row["identity_id"]].add(customer)
        elif kind == "never_merge":
            for a, b in ((customer, other), (other, customer)):
                if a in customers and b is not None:
                    self._never_merge[a].add(b)

    def _load_open_conflicts(self, identity_ids: Iterable[uuid.UUID]) -> None:
        wanted = sorted({i for i in identity_ids if i not in self._open}, key=str)
        if wanted:
            self._cover_open_conflicts(wanted, self._store.open_conflicts(wanted))

    def _cover_open_conflicts(self, identity_ids: list[uuid.UUID], stored: list[ConflictKey]) -> None:
        """Open conflicts read for these identities, which are then known in full."""
        wanted = {i for i in identity_ids if i not in self._open}
        for iid in wanted:
            self._open[iid] = []
        for key in stored:
            if key[1] in wanted:
                self._open[key[1]].append(key)
        for row in self._conflicts:
            if row["status"] == "open" and row.get("identity_id") in wanted:
                self._open[row["identity_id"]].append(_conflict_key(row))

    # --- customers ------------------------------------------------------------------------
    def customer(self, customer_id: uuid.UUID | None) -> CustomerState | None:
        if customer_id is None:
            return None
        row = self._customer_row(customer_id)
        return CustomerState(row["id"], row["created_at"], row["name"]) if row else None

    def customer_exists(self, customer_id: uuid.UUID) -> bool:
        return self._customer_row(customer_id) is not None

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

    def merged_into(self, customer_id: uuid.UUID) -> uuid.UUID | None:
        row = self._customer_row(customer_id)
        return row["merged_into"] if row else None

    def create_customer(
        self, customer_id: uuid.UUID, at: datetime, name: str | None, email: str | None
    ) -> None:
        if self._customer_row(customer_id) is not None:
            return
        # A person's constraints name customers that exist: a new one has none.
        self._never_merge.setdefault(customer_id, set())
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

    def note_customer_details(
        self, customer_id: uuid.UUID, name: str | None, email: str | None, at: datetime
    ) -> None:
        row = self._customer_row(customer_id)
        if row is None:
            return
        changed = False
        if name and better_name(name, at, row["name"], row["name_at"]):
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

    def set_merged_into(self, customer_id: uuid.UUID, survivor: uuid.UUID | None, at: datetime) -> None:
        row = self._customer_row(customer_id)
        if row is not None:
            row["merged_into"] = survivor
            self._customers.touch(customer_id)
        if survivor is None:
            return
        # The merge answers the open questions about these two being one person: those
        # stored (at once) and those still in the buffer, so the review queue stops asking
        # (and a replay that merged first never asked).
        self._store.resolve_conflicts(at, between=(customer_id, survivor))
        both = {customer_id, survivor}
        for pending in self._conflicts:
            if (
                pending["status"] == "open"
                and {pending.get("customer_id"), pending.get("other_customer_id")} == both
            ):
                pending["status"], pending["resolved_at"] = "resolved", at
        for identity, keys in self._open.items():
            self._open[identity] = [k for k in keys if {k[3], k[4]} != both]

    # --- phones ---------------------------------------------------------------------------
    def phone(self, e164: str) -> PhoneState:
        row = self._row(self._phones, e164)
        if row is None:
            return PhoneState(e164)
        owner = self.effective(row["customer_id"])
        return PhoneState(e164, self.customer(owner), bool(row["shared"]), holder=row["customer_id"])

    def phone_claimants(self, e164: str, holder: uuid.UUID | None) -> tuple[str, ...]:
        """The stored rows overlaid with this unit of work's: a cached identity row is the
        truth for that identity (it was locked when read, or is new), and the conflicts not
        written yet are in the buffer."""
        stored = self._store.phone_claims(e164, holder, CLAIM_KINDS)
        self._phone_marks.setdefault(e164, stored.mark)
        names: set[str | None] = set()
        cached = self._identities.rows
        if holder is not None:
            for identity_id, display, handle in stored.linked:
                if cached.get(identity_id) is None:
                    names.add(display or handle)
            for row in cached.values():
                if row is not None and row["customer_id"] == holder:
                    names.add(row["display_name"] or row["handle"])
        for identity_id, display, handle in stored.waiting:
            row = cached.get(identity_id)
            names.add((row["display_name"] or row["handle"]) if row is not None else (display or handle))
        for pending in self._conflicts:
            if (
                pending["status"] == "open"
                and pending.get("e164") == e164
                and pending.get("kind") in CLAIM_KINDS
                and pending.get("identity_id") is not None
                and (row := self._row(self._identities, pending["identity_id"])) is not None
            ):
                names.add(row["display_name"] or row["handle"])
        return tuple(sorted(name for name in names if name))

    def phone_pinned_not_shared(self, e164: str) -> bool:
        for row in reversed(self._constraints):
            if row["e164"] == e164 and row["kind"] in ("shared", "not_shared"):
                return bool(row["kind"] == "not_shared")
        if e164 not in self._phone_marks:
            self._phone_marks[e164] = self._store.phone_claims(e164, None, ()).mark
        return self._phone_marks[e164] == "not_shared"

    def ensure_phone(self, e164: str, at: datetime, version: str) -> None:
        if self._row(self._phones, e164) is None:
            self._phones.add(_phone_row(e164, None, at, version))

    def claim_phone(self, e164: str, customer_id: uuid.UUID, at: datetime, version: str) -> uuid.UUID | None:
        row = self._row(self._phones, e164)
        if row is None:
            self._phones.add(_phone_row(e164, customer_id, at, version))
            return customer_id
        if row["customer_id"] is None and not row["shared"]:
            row["customer_id"] = customer_id
            self._phones.touch(e164)
        owner: uuid.UUID | None = row["customer_id"]
        return owner

    def record_address(self, channel: str, address: str, e164: str, version: str, at: datetime) -> None:
        self.ensure_phone(e164, at, version)
        self._addresses.setdefault(
            (channel, address),
            {"channel": channel, "address": address, "e164": e164, "normalizer_version": version},
        )

    def set_shared(self, e164: str, shared: bool, by: str, at: datetime, version: str) -> uuid.UUID | None:
        row = self._row(self._phones, e164)
        if row is None:
            row = self._phones.add(_phone_row(e164, None, at, version))
        previous: uuid.UUID | None = row["customer_id"]
        row["shared"], row["shared_by"] = shared, by if shared else None
        if shared:
            row["customer_id"] = None
        self._phones.touch(e164)
        return previous

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
            return
        last = at if row["last_seen_at"] is None or at > row["last_seen_at"] else row["last_seen_at"]
        seen = (
            last,
            handle if handle is not None else row["handle"],
            name if name is not None else row["display_name"],
        )
        if seen != (row["last_seen_at"], row["handle"], row["display_name"]):
            row["last_seen_at"], row["handle"], row["display_name"] = seen
            self._identities.touch(identity_id)

    def identity(self, identity_id: uuid.UUID) -> IdentityState:
        row = self._require(self._identities, identity_id)
        return IdentityState(
            identity_id,
            self.customer(self.effective(row["customer_id"])),
            row["decided_by"],
            row["verification"],
            row["display_name"] or row["handle"],
        )

    def identity_exists(self, identity_id: uuid.UUID) -> bool:
        return self._row(self._identities, identity_id) is not None

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
            return
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

    def never_link(self, identity_id: uuid.UUID, customer_id: uuid.UUID | None) -> frozenset[uuid.UUID]:
        if identity_id not in self._never_link or (
            customer_id is not None and customer_id not in self._never_merge
        ):
            self._load_constraints([identity_id], [customer_id] if customer_id is not None else [])
        blocked = set(self._never_link[identity_id])
        if customer_id is not None:
            blocked |= self._never_merge[customer_id]
        return frozenset(blocked)

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
            self._index_thread(thread_id, identity_id)
            return
        first, last = row["first_message_at"], row["last_message_at"]
        row["first_message_at"] = at if first is None or at < first else first
        row["last_message_at"] = at if last is None or at > last else last
        row["message_count"] += increment
        if row["identity_id"] is None and identity_id is not None:
            row["identity_id"] = identity_id
            self._index_thread(thread_id, identity_id)
        self._threads.touch(thread_id)

    def _index_thread(self, thread_id: uuid.UUID, identity_id: uuid.UUID | None) -> None:
        if identity_id in self._threads_of:
            self._threads_of[identity_id].add(thread_id)

    def thread(self, thread_id: uuid.UUID) -> ThreadState:
        return _thread_state(self._require(self._threads, thread_id))

    def thread_exists(self, thread_id: uuid.UUID) -> bool:
        return self._row(self._threads, thread_id) is not None

    def threads_of_identity(self, identity_id: uuid.UUID) -> list[ThreadState]:
        self._load_threads((), [identity_id])
        rows = self._threads.rows
        return [_thread_state(row) for tid in sorted(self._threads_of[identity_id]) if (row := rows.get(tid))]

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
        row = {
            "kind": kind,
            "identity_id": identity_id,
            "thread_id": thread_id,
            "customer_id": customer_id,
            "other_customer_id": other_customer_id,
            "e164": e164,
            "created_by": by,
            "created_at": at,
            "active": True,
        }
        self._constraints.append(row)
        self._index_constraint(row, self._never_link, self._never_merge)

    def ledger(self, **entry: Any) -> None:
        self._ledger.append(_checked(entry, LEDGER, evidence={}))

    def conflict(self, **values: Any) -> None:
        row = _checked(values, CONFLICTS, evidence={}, status="open")
        self._conflicts.append(row)
        if row.get("identity_id") in self._open:
            self._open[row["identity_id"]].append(_conflict_key(row))

    def open_conflict_exists(
        self,
        kind: str,
        identity_id: uuid.UUID,
        e164: str | None,
        customer_id: uuid.UUID | None,
        other_customer_id: uuid.UUID | None,
    ) -> bool:
        if identity_id not in self._open:
            self._load_open_conflicts([identity_id])
        return (kind, identity_id, e164, customer_id, other_customer_id) in self._open[identity_id]

    def resolve_conflict(self, conflict_id: int, at: datetime) -> bool:
        found = self._store.resolve_conflicts(at, conflict_id=conflict_id) > 0
        self._open.clear()  # whichever identity it was about: read its questions again
        return found

    def consent(self, **values: Any) -> None:
        key = values.get("idempotency_key")
        if key is not None:
            if key in self._consent_keys:
                return
            self._consent_keys.add(key)
        self._consent.append(_checked(values, CONSENT, evidence={}))

    def outbox_get(self, key: str) -> list[dict[str, Any]] | None:
        if key not in self._outbox:
            self._load_outbox([key])
        events = self._outbox[key]
        if isinstance(events, str):  # put by this unit of work: decoded only if asked for again
            events = self._outbox[key] = jsoncodec.loads(events)
        return events

    def outbox_put(
        self,
        key: str,
        thread_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        events: str,
        at: datetime,
    ) -> None:
        if key not in self._outbox:
            self._load_outbox([key])
        if self._outbox[key] is not None:
            return  # stored once: the first application's events are the message's
        self._outbox[key] = events
        self._outbox_rows.append(
            {
                "idempotency_key": key,
                "thread_id": thread_id,
                "customer_id": customer_id,
                "events": Encoded(events),
                "resolved_at": at,
            }
        )


def _phone_row(e164: str, customer_id: uuid.UUID | None, at: datetime, version: str) -> Row:
    """A phones row as first written (unshared)."""
    return {
        "e164": e164,
        "customer_id": customer_id,
        "shared": False,
        "shared_by": None,
        "normalizer_version": version,
        "created_at": at,
    }


def _thread_state(row: Row) -> ThreadState:
    return ThreadState(
        row["id"],
        row["customer_id"],
        row["identity_id"],
        row["decided_by"],
        row["first_message_at"],
        row["message_count"],
        row["last_message_at"],
    )


def _conflict_key(row: Row) -> ConflictKey:
    return (
        row["kind"],
        row.get("identity_id"),
        row.get("e164"),
        row.get("customer_id"),
        row.get("other_customer_id"),
    )


def _checked(values: Row, spec: TableSpec, **defaults: Any) -> Row:
    """An appended row names known columns only and has every one of them (None when not
    given); a column with a default in the table takes it here when not given, so a buffered
    conflict can still be resolved in memory by a merge."""
    unknown = set(values) - set(spec.columns)
    if unknown:
        raise TypeError(f"unknown {spec.name} column(s) {sorted(unknown)}")
    row: Row = dict.fromkeys(spec.columns)
    row.update(defaults)
    row.update((k, v) for k, v in values.items() if v is not None or k not in defaults)
    return row
