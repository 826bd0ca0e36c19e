"""The identity repository's row cache: what a unit of work has read through its `RowStore`.

Rows of the keyed tables are read on first use (or all of a batch's at once, `prefetch`), locked
by the store until the transaction ends, and kept with the rows this unit of work creates, so the
cached copy is the truth for the rest of it; a row known to be absent is cached as None. Beside
them: the outbox keys read, and the admin constraints and open conflicts of the identities and
customers read, which are known in full once read (the buffer's own, not stored yet, included).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from operator import attrgetter
from typing import Any

from workers.adapters.rows import (
    CUSTOMERS,
    FENCE,
    IDENTITIES,
    PHONES,
    THREADS,
    ConflictKey,
    Row,
    RowStore,
    TableSpec,
    Write,
)
from workers.adapters.write_buffer import WriteBuffer, conflict_key
from workers.domain.ports import BatchKeys

MAX_MERGE_HOPS = 32
_UUID_INT = attrgetter("int")


def in_text_order(keys: Collection[Any]) -> list[Any]:
    """Keys sorted as their text sorts (the order rows are read, locked and written in). uuids
    alone sort by their int, which orders them as their text does (32 hex digits in fixed
    places), without formatting each one (UUID.__str__ is Python code: three of a batch's
    sorts per message); any other mix sorts by its text."""
    if all(isinstance(key, uuid.UUID) for key in keys):
        return sorted(keys, key=_UUID_INT)
    return sorted(keys, key=str)


class TableCache:
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
        return in_text_order({k for k in keys if k not in self.rows})

    def loaded(self, asked: Iterable[Any], found: Iterable[Row]) -> None:
        """Rows read for keys not cached before (`asked`; those not found are absent), and rows
        read along with them, kept unless cached already: the first read of a row is this unit
        of work's truth (it was locked then, or created here)."""
        keys = set(asked)
        # The asked keys go in first, so each is the dict's own key object: the repository
        # looks rows up by the very ids it asked with (a message's derived ids), which a dict
        # then finds by identity, without calling UUID.__eq__ (Python code) on the key read.
        for key in keys:
            self.rows.setdefault(key, None)
        for row in found:
            key = row[self.key]
            if key in keys or key not in self.rows:
                self.rows[key] = row

    def add(self, row: Row) -> Row:
        key = row[self.key]
        self.rows[key] = row
        self.new.add(key)
        return row

    def touch(self, key: Any) -> None:
        if key not in self.new:
            self.dirty.add(key)

    def drop(self, key: Any) -> None:
        """The row is deleted (by a write of the caller's): known absent from now on."""
        self.rows[key] = None
        self.new.discard(key)
        self.dirty.discard(key)

    def writes(self) -> list[Write]:
        """The rows created and the rows changed, in key order, and forgets that they changed."""
        new = [row for k in in_text_order(self.new) if (row := self.rows.get(k)) is not None]
        dirty = [row for k in in_text_order(self.dirty) if (row := self.rows.get(k)) is not None]
        self.new.clear()
        self.dirty.clear()
        return [
            *([Write("insert", self.spec, new)] if new else []),
            *([Write("update", self.spec, dirty)] if dirty else []),
        ]


class RowCache:
    def __init__(self, store: RowStore, buffer: WriteBuffer) -> None:
        self.store = store
        self._buffer = buffer
        self.customers = TableCache(CUSTOMERS)
        self.phones = TableCache(PHONES)
        self.identities = TableCache(IDENTITIES)
        self.threads = TableCache(THREADS)
        # Erased subjects read or recorded (keyed hashes; see schema/tables.py privacy_fence).
        self.fence = TableCache(FENCE)
        # identity -> ids of its threads, for identities whose every thread is cached.
        self.threads_of: dict[uuid.UUID, set[uuid.UUID]] = {}
        # Outbox keys read or written: their events (as JSON text when put here), or None when
        # none are stored.
        self.outbox: dict[str, list[dict[str, Any]] | str | None] = {}
        # never_link by identity and never_merge by customer, for the ids read so far.
        self.never_link: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.never_merge: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.phone_marks: dict[str, str | None] = {}
        # Open conflicts by identity, for the identities read so far (the buffer's included).
        self.open: dict[uuid.UUID, list[ConflictKey]] = {}

    def writes(self) -> list[Write]:
        """The keyed tables' changes, in foreign-key order."""
        return [
            w
            for cache in (self.customers, self.phones, self.identities, self.threads, self.fence)
            for w in cache.writes()
        ]

    def prefetch(self, keys: BatchKeys) -> None:
        given = in_text_order(set(keys.identities))
        tids = self.threads.missing(keys.threads)
        iids = self.identities.missing(given)
        e164s = self.phones.missing(keys.phones)
        cids = self.customers.missing(keys.customers)
        outbox = sorted({k for k in keys.outbox_keys if k not in self.outbox})
        read = self.store.load_batch(
            BatchKeys(tuple(given), tuple(tids), tuple(e164s), tuple(cids), tuple(outbox))
        )
        self._absorb_threads(tids, [i for i in given if i not in self.threads_of], read.threads)
        self.identities.loaded(iids, read.identities)
        self.phones.loaded(e164s, read.phones)
        self.customers.loaded(cids, read.customers)
        for key in outbox:
            self.outbox[key] = read.outbox.get(key)
        self._cover_constraints(given, [*cids, *(r["id"] for r in read.customers)], read.never)
        self._cover_open_conflicts(given, read.open_conflicts)
        # Longer merge chains, and the constraints of the customers at their ends (rare).
        self.load_customers(r["merged_into"] for r in read.customers if r["merged_into"] is not None)
        self.load_constraints([], [c for c, row in self.customers.rows.items() if row is not None])

    # --- rows by key ----------------------------------------------------------------------
    def row(self, cache: TableCache, key: Any) -> Row | None:
        # One dict lookup when cached (almost always: a batch's rows are prefetched); a uuid's
        # hash is Python code, and rows are looked up several times per message.
        try:
            return cache.rows[key]
        except KeyError:
            cache.loaded([key], self.store.load(cache.spec, [key]))
            return cache.rows[key]

    def require(self, cache: TableCache, key: Any) -> Row:
        row = self.row(cache, key)
        if row is None:
            raise LookupError(f"{cache.spec.name} row {key} not found")
        return row

    def customer(self, customer_id: uuid.UUID) -> Row | None:
        try:  # one lookup when cached, as in `row`
            return self.customers.rows[customer_id]
        except KeyError:
            self.load_customers([customer_id])
            return self.customers.rows[customer_id]

    def load_customers(self, wanted: Iterable[uuid.UUID]) -> None:
        """Customers and their merge chains (one read per hop; chains are short)."""
        pending = self.customers.missing(wanted)
        for _ in range(MAX_MERGE_HOPS):
            if not pending:
                return
            rows = self.store.load(CUSTOMERS, pending)
            self.customers.loaded(pending, rows)
            pending = self.customers.missing(r["merged_into"] for r in rows if r["merged_into"] is not None)

    # --- threads of an identity -----------------------------------------------------------
    def thread_ids_of(self, identity_id: uuid.UUID) -> set[uuid.UUID]:
        if identity_id not in self.threads_of:
            self._absorb_threads([], [identity_id], self.store.load_threads([], [identity_id]))
        return self.threads_of[identity_id]

    def index_thread(self, thread_id: uuid.UUID, identity_id: uuid.UUID | None) -> None:
        """A thread created here, or given its identity here, is among that identity's threads."""
        if identity_id in self.threads_of:
            self.threads_of[identity_id].add(thread_id)

    def _absorb_threads(self, tids: list[uuid.UUID], iids: list[uuid.UUID], found: list[Row]) -> None:
        """Threads read by id (`tids`) and by identity (`iids`, whose threads are then all cached)."""
        self.threads.loaded(tids, found)
        covered = set(iids)
        for iid in iids:
            self.threads_of[iid] = set()
        for cached in self.threads.rows.values():
            if cached is not None and cached["identity_id"] in covered:
                self.threads_of[cached["identity_id"]].add(cached["id"])

    # --- the outbox -----------------------------------------------------------------------
    def load_outbox(self, keys: Iterable[str]) -> None:
        wanted = sorted({k for k in keys if k not in self.outbox})
        if wanted:
            found = self.store.outbox(wanted)
            for key in wanted:
                self.outbox[key] = found.get(key)

    # --- constraints ----------------------------------------------------------------------
    def load_constraints(self, identity_ids: Iterable[uuid.UUID], customer_ids: Iterable[uuid.UUID]) -> None:
        iids = in_text_order({i for i in identity_ids if i not in self.never_link})
        cids = in_text_order({c for c in customer_ids if c not in self.never_merge})
        if iids or cids:
            self._cover_constraints(iids, cids, self.store.never_constraints(iids, cids))

    def _cover_constraints(
        self, identity_ids: Iterable[uuid.UUID], customer_ids: Iterable[uuid.UUID], stored: list[Row]
    ) -> None:
        """Constraints read for these ids, which are then known in full."""
        iids = [i for i in identity_ids if i not in self.never_link]
        cids = [c for c in customer_ids if c not in self.never_merge]
        for iid in iids:
            self.never_link[iid] = set()
        for cid in cids:
            self.never_merge[cid] = set()
        # Constraints this unit of work added are not stored yet: read them from the buffer.
        for row in [*stored, *self._buffer.constraints]:
            self.index_constraint(row, iids, cids)

    def index_constraint(
        self, row: Row, identity_ids: Iterable[uuid.UUID], customer_ids: Iterable[uuid.UUID]
    ) -> None:
        identities, customers = set(identity_ids), set(customer_ids)
        kind, customer, other = row["kind"], row["customer_id"], row["other_customer_id"]
        if kind == "never_link" and row["identity_id"] in identities and customer is not None:
            self.never_link[row["identity_id"]].add(customer)
        elif kind == "never_merge":
            for a, b in ((customer, other), (other, customer)):
                if a in customers and b is not None:
                    self.never_merge[a].add(b)

    # --- open conflicts -------------------------------------------------------------------
    def load_open_conflicts(self, identity_ids: Iterable[uuid.UUID]) -> None:
        wanted = in_text_order({i for i in identity_ids if i not in self.open})
        if wanted:
            self._cover_open_conflicts(wanted, self.store.open_conflicts(wanted))

    def _cover_open_conflicts(self, identity_ids: list[uuid.UUID], stored: list[ConflictKey]) -> None:
        """Open conflicts read for these identities, which are then known in full."""
        wanted = {i for i in identity_ids if i not in self.open}
        for iid in wanted:
            self.open[iid] = []
        for key in stored:
            if key[1] in wanted:
                self.open[key[1]].append(key)
        for row in self._buffer.open_conflicts():
            if row.get("identity_id") in wanted:
                self.open[row["identity_id"]].append(conflict_key(row))
