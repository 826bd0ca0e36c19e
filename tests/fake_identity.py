"""The identity tables in dicts: a `RowStore` and a unit of work for fast tests of the services.

The repository (workers/adapters/repository.py) decides over rows and writes rows; here the
rows live in dicts keyed by primary key, with the same columns, sequences and checks as the
PostgreSQL tables (schema/tables.py), so a test reads the same rows from either store. A unit
of work works on a copy and replaces the committed tables only on commit: leaving it without
commit, or with an exception, changes nothing. The contract suite (tests/contract/) runs the
same tests on this store and on PostgreSQL.

`FakeDatabase.fail(method, exc)` makes a store method raise, for tests of what a stage does when
our own code or the store breaks.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from schema import jsoncodec
from schema import tables as t
from workers.adapters.repository import Repository
from workers.adapters.rows import (
    ADDRESSES,
    CONFLICTS_PRIVATE,
    CONSENT,
    CONSENT_ROWS,
    CONSTRAINTS_PRIVATE,
    CUSTOMERS,
    IDENTITIES,
    LEDGER_PRIVATE,
    OUTBOX_EVENTS,
    PHONES,
    THREADS,
    About,
    BatchRows,
    ClusterRows,
    ConflictKey,
    Encoded,
    PhoneClaims,
    PrivateRows,
    Row,
    TableSpec,
    Write,
)
from workers.domain.ports import BatchKeys, ConcurrentWriteError, UnitOfWork, UnitOfWorkFactory

TABLES = (
    t.customers,
    t.phones,
    t.phone_addresses,
    t.identities,
    t.threads,
    t.identity_ledger,
    t.conflicts,
    t.constraints,
    t.resolved_messages,
    t.consent_ledger,
    t.privacy_fence,
    t.profile_fetches,
)
# Tables whose primary key is a sequence PostgreSQL assigns.
SEQUENCES = {
    "identity_ledger": "seq",
    "identity_conflicts": "id",
    "identity_constraints": "id",
    "consent_ledger": "seq",
}
JSON_COLUMNS = ("evidence", "events")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

Tables = dict[str, dict[Any, Row]]


def _pk(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in t.metadata.tables[table].primary_key.columns)


def _key(table: str, row: Row) -> Any:
    names = _pk(table)
    return row[names[0]] if len(names) == 1 else tuple(row[n] for n in names)


def _stored(table: str, row: Row) -> Row:
    """A row as PostgreSQL would hold it: every column, JSON as decoded JSON."""
    out: Row = dict.fromkeys(t.metadata.tables[table].columns.keys())
    out.update(row)
    for column in JSON_COLUMNS:
        value = out.get(column)
        if isinstance(value, Encoded):
            out[column] = jsoncodec.loads(value.text)
        elif value is not None and column in out:
            out[column] = jsoncodec.loads(jsoncodec.dumps(value))
    return out


class FakeDatabase:
    """Committed identity tables: table name -> {primary key: row}."""

    def __init__(self) -> None:
        self.tables: Tables = {table.name: {} for table in TABLES}
        self.sequences: dict[str, int] = dict.fromkeys(SEQUENCES, 0)
        self.failures: dict[str, list[BaseException]] = {}
        self.commits = 0

    def units(self) -> UnitOfWorkFactory:
        def unit() -> UnitOfWork:
            return FakeUnitOfWork(self)

        return unit

    def fail(self, method: str, exc: BaseException, times: int = 1) -> None:
        """The next `times` calls of a RowStore method raise `exc`."""
        self.failures.setdefault(method, []).extend([exc] * times)

    def rows(self, table: str) -> list[Row]:
        """Committed rows of a table, in primary key order."""
        return in_key_order(table, [dict(row) for row in self.tables[table].values()])


def _order(key: Any) -> Any:
    """A sort key that orders primary keys as PostgreSQL orders them (uuids by their bytes, which
    is their text's order; numbers as numbers), whatever the database's collation."""
    return (
        tuple(str(k) for k in key)
        if isinstance(key, tuple)
        else (str(key) if isinstance(key, uuid.UUID) else key)
    )


def in_key_order(table: str, rows: list[Row]) -> list[Row]:
    """Rows of a table sorted by primary key (the same order from either store)."""
    return sorted(rows, key=lambda row: _order(_key(table, row)))


class FakeRows:
    """`RowStore` over one unit of work's copy of the tables. Its writes change the copy (so the
    unit of work reads them back) and are logged, to be applied again to the committed tables
    at commit: two units of work open at once then behave as two transactions do, a row the
    other inserted meanwhile making this one's insert fail (ConcurrentWriteError)."""

    def __init__(
        self, db: FakeDatabase, tables: Tables, sequences: dict[str, int], replaying: bool = False
    ) -> None:
        self._db = db
        self.tables = tables
        self.sequences = sequences
        self.replaying = replaying
        self.locked: list[str] = []
        self.log: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _maybe_fail(self, method: str) -> None:
        pending = None if self.replaying else self._db.failures.get(method)
        if pending:
            raise pending.pop(0)

    def _logged(self, method: str, *args: Any, **kwargs: Any) -> None:
        self.log.append((method, args, kwargs))

    def _rows(self, table: str) -> list[Row]:
        return list(self.tables[table].values())

    @staticmethod
    def _tracked(spec: TableSpec, row: Row) -> Row:
        return {c: row[c] for c in spec.columns}

    def lock(self, keys: Sequence[str]) -> None:
        self._maybe_fail("lock")
        self.locked.extend(keys)

    def load(self, table: TableSpec, keys: Sequence[Any]) -> list[Row]:
        self._maybe_fail("load")
        stored = self.tables[table.name]
        return [self._tracked(table, stored[k]) for k in sorted(set(keys), key=_order) if k in stored]

    def load_threads(self, thread_ids: Sequence[uuid.UUID], identity_ids: Sequence[uuid.UUID]) -> list[Row]:
        self._maybe_fail("load_threads")
        ids, identities = set(thread_ids), set(identity_ids)
        found = [r for r in self._rows("threads") if r["id"] in ids or r["identity_id"] in identities]
        return [self._tracked(THREADS, r) for r in sorted(found, key=lambda r: r["id"])]

    def load_batch(self, keys: BatchKeys) -> BatchRows:
        self._maybe_fail("load_batch")
        threads = self.load_threads(keys.threads, keys.identities)
        identities = self.load(IDENTITIES, keys.identities)
        phone_rows = self.load(PHONES, keys.phones)
        named = {
            r["customer_id"] for r in (*threads, *identities, *phone_rows) if r["customer_id"] is not None
        }
        customers = self.load(CUSTOMERS, [*keys.customers, *named])
        return BatchRows(
            threads=threads,
            identities=identities,
            phones=phone_rows,
            customers=customers,
            outbox=self.outbox(keys.outbox_keys),
            never=self.never_constraints(keys.identities, [*keys.customers, *(c["id"] for c in customers)]),
            open_conflicts=self.open_conflicts(keys.identities),
        )

    def phone_claims(self, e164: str, holder: uuid.UUID | None, kinds: Sequence[str]) -> PhoneClaims:
        identities = self.tables["identities"]
        linked = [
            (r["id"], r["display_name"], r["handle"])
            for r in self._rows("identities")
            if holder is not None and r["customer_id"] == holder
        ]
        waiting = [
            (i["id"], i["display_name"], i["handle"])
            for c in self._rows("identity_conflicts")
            if c["status"] == "open"
            and c["e164"] == e164
            and c["kind"] in kinds
            and (i := identities.get(c["identity_id"])) is not None
        ]
        marks = [
            c
            for c in self._rows("identity_constraints")
            if c["active"] and c["e164"] == e164 and c["kind"] in ("shared", "not_shared")
        ]
        mark = str(max(marks, key=lambda c: c["id"])["kind"]) if marks else None
        return PhoneClaims(linked, waiting, mark)

    def open_conflicts(self, identity_ids: Sequence[uuid.UUID]) -> list[ConflictKey]:
        wanted = set(identity_ids)
        return [
            (c["kind"], c["identity_id"], c["e164"], c["customer_id"], c["other_customer_id"])
            for c in self._rows("identity_conflicts")
            if c["status"] == "open" and c["identity_id"] in wanted
        ]

    def attested_identities(self, e164: str) -> list[uuid.UUID]:
        addresses = {(a["channel"], a["address"]) for a in self._rows("phone_addresses") if a["e164"] == e164}
        return sorted(
            i["id"] for i in self._rows("identities") if (i["platform"], i["provider_user_id"]) in addresses
        )

    def never_constraints(
        self, identity_ids: Sequence[uuid.UUID], customer_ids: Sequence[uuid.UUID]
    ) -> list[Row]:
        identities, customers = set(identity_ids), set(customer_ids)
        return [
            {k: c[k] for k in ("kind", "identity_id", "customer_id", "other_customer_id")}
            for c in self._rows("identity_constraints")
            if c["active"]
            and c["kind"] in ("never_link", "never_merge")
            and (
                c["identity_id"] in identities
                or c["customer_id"] in customers
                or c["other_customer_id"] in customers
            )
        ]

    def outbox(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        self._maybe_fail("outbox")
        stored = self.tables["resolved_messages"]
        return {k: stored[k]["events"] for k in keys if k in stored}

    def address(self, channel: str, address: str) -> Row | None:
        row = self.tables["phone_addresses"].get((channel, address))
        return self._tracked(ADDRESSES, row) if row is not None else None

    def consent_of(self, e164: str) -> list[Row]:
        found = [r for r in self._rows("consent_ledger") if r["e164"] == e164]
        return [self._tracked(CONSENT, r) for r in sorted(found, key=lambda r: r["seq"])]

    def resolve_conflicts(
        self,
        at: datetime,
        *,
        between: tuple[uuid.UUID, uuid.UUID] | None = None,
        conflict_id: int | None = None,
    ) -> int:
        self._logged("resolve_conflicts", at, between=between, conflict_id=conflict_id)
        conflicts = self.tables["identity_conflicts"]
        changed = 0
        for key, c in list(conflicts.items()):
            if between is not None:
                pair = {c["customer_id"], c["other_customer_id"]} == set(between) and len(set(between)) == 2
                hit = c["status"] == "open" and pair
            else:
                hit = key == conflict_id
            if hit:
                conflicts[key] = {**c, "status": "resolved", "resolved_at": at}
                changed += 1
        return changed

    def cluster(self, customer_id: uuid.UUID) -> ClusterRows:
        customers = self.tables["customers"]
        survivor: uuid.UUID | None = customer_id if customer_id in customers else None
        for _ in range(32):
            if survivor is None or customers[survivor]["merged_into"] is None:
                break
            survivor = customers[survivor]["merged_into"]
        if survivor is None:
            return ClusterRows(None, [], [], [], [])
        members, frontier = [survivor], [survivor]
        while frontier:
            below = sorted((c["id"] for c in customers.values() if c["merged_into"] in frontier), key=str)
            frontier = [c for c in below if c not in members]
            members.extend(frontier)
        ours = set(members)
        phones = sorted(p["e164"] for p in self._rows("phones") if p["customer_id"] in ours)
        identities = [
            {k: i[k] for k in ("id", "platform", "business_account", "provider_user_id")}
            for i in sorted(self._rows("identities"), key=lambda r: _order(r["id"]))
            if i["customer_id"] in ours
        ]
        theirs = {i["id"] for i in identities}
        threads = [
            {"id": th["id"], "thread_key": th["thread_key"]}
            for th in sorted(self._rows("threads"), key=lambda r: _order(r["id"]))
            if th["customer_id"] in ours or th["identity_id"] in theirs
        ]
        return ClusterRows(survivor, members, phones, identities, threads)

    def private_rows(self, about: About) -> PrivateRows:
        customers, identities, threads = set(about.customers), set(about.identities), set(about.threads)
        phones, subjects = set(about.phones), set(about.subjects)

        def decision(r: Row) -> bool:
            return bool(
                r["customer_id"] in customers
                or r["other_customer_id"] in customers
                or r["identity_id"] in identities
                or r["thread_id"] in threads
                or r["e164"] in phones
            )

        def read(spec: TableSpec, keep: Any) -> list[Row]:
            found = [self._tracked(spec, r) for r in self._rows(spec.name) if keep(r)]
            return in_key_order(spec.name, found)

        return PrivateRows(
            ledger=read(LEDGER_PRIVATE, decision),
            conflicts=read(CONFLICTS_PRIVATE, decision),
            constraints=read(CONSTRAINTS_PRIVATE, lambda r: r["e164"] in phones),
            consent=read(CONSENT_ROWS, lambda r: r["e164"] in phones or r["subject"] in subjects),
            outbox=read(
                OUTBOX_EVENTS, lambda r: r["customer_id"] in customers and r["thread_id"] not in threads
            ),
        )

    def write(self, writes: Sequence[Write]) -> None:
        self._maybe_fail("write")
        self._logged("write", writes)
        for write in writes:
            getattr(self, "_" + write.kind)(write.table, write.rows)

    def _insert(self, table: TableSpec, rows: Sequence[Row]) -> None:
        stored = self.tables[table.name]
        taken = [row[table.key] for row in rows if row[table.key] in stored]
        if taken:
            raise ConcurrentWriteError(f"{len(taken)} new {table.name} row(s) already existed")
        for row in rows:
            stored[row[table.key]] = _stored(table.name, row)

    def _update(self, table: TableSpec, rows: Sequence[Row]) -> None:
        stored = self.tables[table.name]
        for row in rows:
            key = row[table.key]
            if key in stored:
                stored[key] = {**stored[key], **self._tracked(table, _stored(table.name, row))}

    def _insert_missing(self, table: TableSpec, rows: Sequence[Row]) -> None:
        stored = self.tables[table.name]
        for row in rows:
            unique = tuple(row[c] for c in table.unique)
            if None not in unique and any(
                tuple(r[c] for c in table.unique) == unique for r in stored.values()
            ):
                continue
            self._add(table.name, row)

    def _upsert(self, table: TableSpec, rows: Sequence[Row]) -> None:
        stored = self.tables[table.name]
        for row in rows:
            unique = tuple(row[c] for c in table.unique)
            found = next((k for k, r in stored.items() if tuple(r[c] for c in table.unique) == unique), None)
            if found is None:
                self._add(table.name, row)
            else:
                stored[found] = {**stored[found], **self._tracked(table, _stored(table.name, row))}

    def _delete(self, table: TableSpec, rows: Sequence[Row]) -> None:
        doomed = {row[table.key] for row in rows}
        stored = self.tables[table.name]
        for key, row in list(stored.items()):
            if row[table.key] in doomed:
                del stored[key]

    def _append(self, table: TableSpec, rows: Sequence[Row]) -> None:
        for row in rows:
            self._add(table.name, row)

    def _add(self, table: str, row: Row) -> None:
        full = _stored(table, row)
        if table in SEQUENCES:
            self.sequences[table] += 1
            full[SEQUENCES[table]] = self.sequences[table]
        key = _key(table, full)
        if key in self.tables[table]:
            raise AssertionError(f"duplicate key {key!r} in {table}")  # PostgreSQL: UniqueViolation
        self.tables[table][key] = full


class FakeUnitOfWork:
    """A unit of work on a copy of the committed tables. Commit applies its writes to the
    committed tables, checks what PostgreSQL's constraints would, and only then publishes them."""

    identities: Repository

    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def __enter__(self) -> FakeUnitOfWork:
        self._rows = FakeRows(self._db, _copy(self._db.tables), dict(self._db.sequences))
        self.identities = Repository(self._rows)
        return self

    def commit(self) -> None:
        self.identities.flush()
        target = FakeRows(self._db, _copy(self._db.tables), dict(self._db.sequences), replaying=True)
        for method, args, kwargs in self._rows.log:
            getattr(target, method)(*args, **kwargs)
        _check(target.tables)
        self._db.tables, self._db.sequences = target.tables, target.sequences
        self._db.commits += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None  # the copy is dropped: nothing committed, nothing changed


def _copy(tables: Tables) -> Tables:
    # Rows are never changed in place (an update stores a new dict), so copying each table's
    # dict keeps the committed rows apart.
    return {name: dict(rows) for name, rows in tables.items()}


def unique(rows: Any, columns: tuple[str, ...], name: str) -> None:
    keys = [tuple(row[c] for c in columns) for row in rows]
    assert len(keys) == len(set(keys)), f"unique constraint {name} violated"


def _check(tables: Tables) -> None:
    """The foreign keys, unique keys and checks of schema/tables.py that the repository could break."""
    customers, phones, identities = tables["customers"], tables["phones"], tables["identities"]

    def refers(value: Any, to: dict[Any, Row], what: str) -> None:
        if value is not None and value not in to:
            raise AssertionError(f"foreign key: no {what} {value}")

    for c in customers.values():
        refers(c["merged_into"], customers, "customer")
        assert c["merged_into"] != c["id"], "a customer merged into itself"
    for p in phones.values():
        refers(p["customer_id"], customers, "customer")
        assert _E164.match(p["e164"]), "phones.e164 must be E.164"
        assert not (p["shared"] and p["customer_id"] is not None), "a shared phone links nobody"
    unique(
        identities.values(), ("platform", "business_account", "provider_user_id"), "uq_identities_provider_id"
    )
    unique(tables["threads"].values(), ("thread_key",), "threads_thread_key_key")
    for i in identities.values():
        refers(i["customer_id"], customers, "customer")
        assert 0 <= i["confidence"] <= 1 and i["verification"] in ("unverified", "verified", "rejected")
    for th in tables["threads"].values():
        refers(th["customer_id"], customers, "customer")
        refers(th["identity_id"], identities, "identity")
    for a in tables["phone_addresses"].values():
        refers(a["e164"], phones, "phone")
    for consent in tables["consent_ledger"].values():
        assert consent["status"] in ("opted_in", "opted_out")
        assert consent["e164"] is not None or consent["subject"] is not None, "consent about nobody"
    for fence in tables["privacy_fence"].values():
        assert fence["kind"] in ("phone", "thread", "identity")
