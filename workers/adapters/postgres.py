"""The identity repository's rows in PostgreSQL, and the unit of work around them.

`PostgresRows` reads a batch's rows with one statement per table (`= ANY(array)`: one bound
parameter whatever the batch size), locking each (FOR UPDATE) so the repository's cached copy
stays the truth until commit, and writes each table once (bulk_sql: unnest() for inserts,
updates and deletes, every table's statement in one round trip). Statements are plain SQL on
the transaction's own DBAPI cursor, their text built once: SQLAlchemy's compilation of a
select per table per batch cost more than the statements themselves. Inserts that race
another worker go through ON CONFLICT, so the database stays the backstop of the
single-writer-per-phone rule when partitions move.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from operator import itemgetter
from types import TracebackType
from typing import Any

import psycopg2.errors
from sqlalchemy import Connection, Engine

from phoneunify.db import advisory_locks_sql
from phoneunify.retry import transient_db_error
from workers.adapters import bulk_sql
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
    Claimant,
    ClusterRows,
    ConflictKey,
    PhoneClaims,
    PrivateRows,
    Row,
    TableSpec,
    Write,
)
from workers.domain.ports import BatchKeys, ConcurrentWriteError, TransientError

log = logging.getLogger(__name__)

# Advisory locks: a namespace of our own (two-int form); keys fold into ids in phoneunify/db.py.
LOCK_SPACE = 0x5055  # "PU"

_THREADS = (
    "SELECT {columns} FROM threads"
    " WHERE id = ANY(%(ids)s::uuid[]) OR identity_id = ANY(%(identities)s::uuid[])"
    " ORDER BY id FOR UPDATE"
)
# Who claimed a phone, in one statement (see PhoneClaims); ORDER BY keeps the mark's row last.
_CLAIMS = (
    "SELECT 'linked', id, display_name, handle FROM identities WHERE customer_id = %(holder)s"
    " UNION ALL SELECT 'waiting', i.id, i.display_name, i.handle"
    " FROM identity_conflicts c JOIN identities i ON c.identity_id = i.id"
    " WHERE c.status = 'open' AND c.e164 = %(e164)s AND c.kind = ANY(%(kinds)s::text[])"
    " UNION ALL (SELECT 'mark', NULL, kind, NULL FROM identity_constraints WHERE e164 = %(e164)s AND active"
    " AND kind IN ('shared', 'not_shared') ORDER BY id DESC LIMIT 1)"
)
_OPEN = (
    "SELECT kind, identity_id, e164, customer_id, other_customer_id FROM identity_conflicts"
    " WHERE status = 'open' AND identity_id = ANY(%(ids)s::uuid[])"
)
_ATTESTED = (
    "SELECT i.id FROM identities i JOIN phone_addresses a"
    " ON a.channel = i.platform AND a.address = i.provider_user_id WHERE a.e164 = %(e164)s ORDER BY i.id"
)
_NEVER = (
    "SELECT kind, identity_id, customer_id, other_customer_id FROM identity_constraints"
    " WHERE active AND kind IN ('never_link', 'never_merge') AND (identity_id = ANY(%(identities)s::uuid[])"
    " OR customer_id = ANY(%(customers)s::uuid[]) OR other_customer_id = ANY(%(customers)s::uuid[]))"
)
_OUTBOX = (
    "SELECT idempotency_key, events FROM resolved_messages WHERE idempotency_key = ANY(%(keys)s::text[])"
)
_RESOLVE_PAIR = (
    "UPDATE identity_conflicts SET status = 'resolved', resolved_at = %(at)s WHERE status = 'open'"
    " AND ((customer_id = %(a)s AND other_customer_id = %(b)s)"
    " OR (customer_id = %(b)s AND other_customer_id = %(a)s))"
)
# Primary keys of the tables whose new rows the repository inserts: a violation of one is another
# transaction's row, inserted since this one read it as absent.
# (Their other unique keys, from which the ids derive, name the same rows.)
_KEYED = frozenset(
    [
        *(f"{spec.name}_pkey" for spec in (CUSTOMERS, PHONES, IDENTITIES, THREADS)),
        "threads_thread_key_key",
        "uq_identities_provider_id",
    ]
)
_ADDRESS = (
    f"SELECT {', '.join(ADDRESSES.columns)} FROM phone_addresses"  # noqa: S608 - fixed names
    " WHERE channel = %(channel)s AND address = %(address)s FOR UPDATE"
)
_CONSENT_OF = (
    f"SELECT {', '.join(CONSENT.columns)} FROM consent_ledger"  # noqa: S608 - fixed names
    " WHERE e164 = %(e164)s ORDER BY seq"
)
_RESOLVE_ONE = "UPDATE identity_conflicts SET status = 'resolved', resolved_at = %(at)s WHERE id = %(id)s"
# A person: up the merge pointers to the survivor, then every customer merged into it (the
# survivor first). Plain reads: an erasure locks the person's keys before it reads for change.
_CLUSTER = (
    "WITH RECURSIVE up(id, merged_into, depth) AS ("
    " SELECT id, merged_into, 0 FROM customers WHERE id = %(id)s"
    " UNION ALL SELECT c.id, c.merged_into, up.depth + 1 FROM customers c JOIN up ON c.id = up.merged_into"
    " WHERE up.depth < 32),"
    " down(id, depth) AS (SELECT id, 0 FROM up WHERE merged_into IS NULL"
    " UNION SELECT c.id, down.depth + 1 FROM customers c JOIN down ON c.merged_into = down.id"
    " WHERE down.depth < 1000)"
    " SELECT id FROM down GROUP BY id ORDER BY min(depth), id"
)
_CLUSTER_PHONES = "SELECT e164 FROM phones WHERE customer_id = ANY(%(members)s::uuid[]) ORDER BY e164"
_CLUSTER_IDENTITIES = (
    "SELECT id, platform, business_account, provider_user_id FROM identities"
    " WHERE customer_id = ANY(%(members)s::uuid[]) ORDER BY id"
)
_CLUSTER_THREADS = (
    "SELECT id, thread_key FROM threads WHERE customer_id = ANY(%(members)s::uuid[])"
    " OR identity_id = ANY(%(identities)s::uuid[]) ORDER BY id"
)
# The ledger entries and conflicts an erasure rewrites: those naming any part of the person.
_ABOUT_DECISION = (
    "customer_id = ANY(%(customers)s::uuid[]) OR other_customer_id = ANY(%(customers)s::uuid[])"
    " OR identity_id = ANY(%(identities)s::uuid[]) OR thread_id = ANY(%(threads)s::uuid[])"
    " OR e164 = ANY(%(phones)s::text[])"
)


def _batch_query() -> tuple[str, dict[str, tuple[tuple[str, ...], Callable[[Any], Any]]]]:
    """One statement reading what `load_batch` reads, and how to take each part's rows apart.

    Each part is a locking CTE (rows locked in key order, as separate statements locked them);
    their rows come back through one UNION ALL whose columns are typed slots (uuids, times,
    texts, ...), so psycopg2 converts every value natively, as it would in a table of its own.
    """
    ctes = {
        "threads": (
            "th",
            THREADS.columns,
            "FROM threads WHERE id = ANY(%(threads)s::uuid[]) OR identity_id = ANY(%(identities)s::uuid[])"
            " ORDER BY id FOR UPDATE",
        ),
        "identities": (
            "idn",
            IDENTITIES.columns,
            "FROM identities WHERE id = ANY(%(identities)s::uuid[]) ORDER BY id FOR UPDATE",
        ),
        "phones": (
            "ph",
            PHONES.columns,
            "FROM phones WHERE e164 = ANY(%(phones)s::text[]) ORDER BY e164 FOR UPDATE",
        ),
        "customers": (
            "cu",
            CUSTOMERS.columns,
            "FROM customers WHERE id = ANY(%(customers)s::uuid[]) OR id IN"
            " (SELECT customer_id FROM th UNION SELECT customer_id FROM idn UNION SELECT customer_id FROM ph)"
            " ORDER BY id FOR UPDATE",
        ),
        "outbox": (
            "ob",
            ("idempotency_key", "events"),
            "FROM resolved_messages WHERE idempotency_key = ANY(%(keys)s::text[])",
        ),
        "never": (
            "nv",
            ("kind", "identity_id", "customer_id", "other_customer_id"),
            "FROM identity_constraints WHERE active AND kind IN ('never_link', 'never_merge')"
            " AND (identity_id = ANY(%(identities)s::uuid[]) OR customer_id = ANY(%(customers)s::uuid[])"
            " OR other_customer_id = ANY(%(customers)s::uuid[]) OR customer_id IN (SELECT id FROM cu)"
            " OR other_customer_id IN (SELECT id FROM cu))",
        ),
        "conflicts": (
            "oc",
            ("kind", "identity_id", "e164", "customer_id", "other_customer_id"),
            "FROM identity_conflicts WHERE status = 'open' AND identity_id = ANY(%(identities)s::uuid[])",
        ),
    }
    slots = [(kind, n) for kind, count in _SLOTS for n in range(count)]
    withs: list[str] = []
    selects: list[str] = []
    parts: dict[str, tuple[tuple[str, ...], Callable[[Any], Any]]] = {}
    for tag, (name, columns, rest) in ctes.items():
        withs.append(f"{name} AS MATERIALIZED (SELECT {', '.join(columns)} {rest})")
        placed: dict[tuple[str, int], str] = {}
        used = dict.fromkeys((kind for kind, _ in _SLOTS), 0)
        for column in columns:
            kind = _slot_type(column)
            placed[(kind, used[kind])] = column
            used[kind] += 1
        exprs = [placed.get(slot, f"NULL::{slot[0]}") for slot in slots]
        selects.append(f"SELECT '{tag}', {', '.join(exprs)} FROM {name}")  # noqa: S608 - fixed names
        positions = [1 + slots.index(next(s for s, c in placed.items() if c == column)) for column in columns]
        parts[tag] = (columns, itemgetter(*positions))
    return "WITH " + ",\n".join(withs) + "\n" + "\nUNION ALL ".join(selects), parts


# Typed columns of the batch read's UNION: enough of each type for the widest table.
_SLOTS = (
    ("uuid", 3),
    ("timestamptz", 4),
    ("text", 7),
    ("double precision", 1),
    ("integer", 1),
    ("boolean", 1),
    ("json", 1),
)


def _slot_type(column: str) -> str:
    kind = bulk_sql.SQL_TYPES.get(column, "text")
    return "json" if kind == "jsonb" else kind


_BATCH, _BATCH_PARTS = _batch_query()


class PostgresRows:
    """`RowStore` on one transaction's connection."""

    def __init__(self, conn: Connection) -> None:
        # The DBAPI cursor of the transaction's own connection: it commits or rolls back with
        # everything else.
        self._cursor: Any = conn.connection.cursor()
        self._locks = ""

    def _execute(self, sql: str, params: dict[str, Any]) -> None:
        # Locks asked for go out first, in the same round trip: a statement of their own, so the
        # statement after them reads with a snapshot taken once they are held.
        sql, self._locks = self._locks + sql, ""
        self._cursor.execute(sql, params)

    def _rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        self._execute(sql, params)
        rows: list[tuple[Any, ...]] = self._cursor.fetchall()
        return rows

    def lock(self, keys: Sequence[str]) -> None:
        """Taken with the next statement (one round trip less), before it reads anything."""
        statement = advisory_locks_sql(LOCK_SPACE, keys)
        if statement:
            self._locks += statement + ";\n"

    def load(self, table: TableSpec, keys: Sequence[Any]) -> list[Row]:
        if not keys:
            return []
        found = self._rows(_load_sql(table), {"keys": [str(k) for k in keys]})
        return [dict(zip(table.columns, values, strict=True)) for values in found]

    def load_threads(self, thread_ids: Sequence[uuid.UUID], identity_ids: Sequence[uuid.UUID]) -> list[Row]:
        found = self._rows(
            _THREADS.format(columns=", ".join(THREADS.columns)),
            {"ids": [str(t) for t in thread_ids], "identities": [str(i) for i in identity_ids]},
        )
        return [dict(zip(THREADS.columns, values, strict=True)) for values in found]

    def load_batch(self, keys: BatchKeys) -> BatchRows:
        params = {
            "identities": bulk_sql.array_literal(keys.identities),
            "threads": bulk_sql.array_literal(keys.threads),
            "phones": list(keys.phones),
            "customers": bulk_sql.array_literal(keys.customers),
            "keys": list(keys.outbox_keys),
        }
        parts: dict[str, list[Any]] = {tag: [] for tag in _BATCH_PARTS}
        for row in self._rows(_BATCH, params):
            parts[row[0]].append(row)
        rows = {
            tag: [dict(zip(cols, pick(r), strict=True)) for r in parts[tag]]
            for tag, (cols, pick) in _BATCH_PARTS.items()
        }
        return BatchRows(
            threads=rows["threads"],
            identities=rows["identities"],
            phones=rows["phones"],
            customers=rows["customers"],
            outbox={r["idempotency_key"]: r["events"] for r in rows["outbox"]},
            never=rows["never"],
            open_conflicts=[
                (r["kind"], r["identity_id"], r["e164"], r["customer_id"], r["other_customer_id"])
                for r in rows["conflicts"]
            ],
        )

    def phone_claims(self, e164: str, holder: uuid.UUID | None, kinds: Sequence[str]) -> PhoneClaims:
        params = {"e164": e164, "holder": str(holder) if holder is not None else None, "kinds": list(kinds)}
        linked: list[Claimant] = []
        waiting: list[Claimant] = []
        mark = None
        for part, identity_id, display, handle in self._rows(_CLAIMS, params):
            if part == "mark":
                mark = display
            else:
                (linked if part == "linked" else waiting).append((identity_id, display, handle))
        return PhoneClaims(linked, waiting, mark)

    def open_conflicts(self, identity_ids: Sequence[uuid.UUID]) -> list[ConflictKey]:
        found = self._rows(_OPEN, {"ids": [str(i) for i in identity_ids]})
        return [(k, i, e, c, o) for k, i, e, c, o in found]

    def attested_identities(self, e164: str) -> list[uuid.UUID]:
        return [uuid.UUID(str(i)) for (i,) in self._rows(_ATTESTED, {"e164": e164})]

    def never_constraints(
        self, identity_ids: Sequence[uuid.UUID], customer_ids: Sequence[uuid.UUID]
    ) -> list[Row]:
        params = {"identities": [str(i) for i in identity_ids], "customers": [str(c) for c in customer_ids]}
        return [
            {"kind": k, "identity_id": i, "customer_id": c, "other_customer_id": o}
            for k, i, c, o in self._rows(_NEVER, params)
        ]

    def outbox(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return dict(self._rows(_OUTBOX, {"keys": list(keys)}))

    def address(self, channel: str, address: str) -> Row | None:
        found = self._rows(_ADDRESS, {"channel": channel, "address": address})
        return dict(zip(ADDRESSES.columns, found[0], strict=True)) if found else None

    def consent_of(self, e164: str) -> list[Row]:
        return [dict(zip(CONSENT.columns, r, strict=True)) for r in self._rows(_CONSENT_OF, {"e164": e164})]

    def resolve_conflicts(
        self,
        at: datetime,
        *,
        between: tuple[uuid.UUID, uuid.UUID] | None = None,
        conflict_id: int | None = None,
    ) -> int:
        if between is not None:
            self._execute(_RESOLVE_PAIR, {"at": at, "a": str(between[0]), "b": str(between[1])})
        else:
            self._execute(_RESOLVE_ONE, {"at": at, "id": conflict_id})
        return int(self._cursor.rowcount)

    def cluster(self, customer_id: uuid.UUID) -> ClusterRows:
        members = [row[0] for row in self._rows(_CLUSTER, {"id": str(customer_id)})]
        if not members:
            return ClusterRows(None, [], [], [], [])
        ids = {"members": [str(m) for m in members]}
        phones = [row[0] for row in self._rows(_CLUSTER_PHONES, ids)]
        identities = [
            dict(zip(("id", "platform", "business_account", "provider_user_id"), row, strict=True))
            for row in self._rows(_CLUSTER_IDENTITIES, ids)
        ]
        threads = [
            dict(zip(("id", "thread_key"), row, strict=True))
            for row in self._rows(_CLUSTER_THREADS, {**ids, "identities": [str(i["id"]) for i in identities]})
        ]
        return ClusterRows(members[0], members, phones, identities, threads)

    def private_rows(self, about: About) -> PrivateRows:
        params = {
            "customers": [str(c) for c in about.customers],
            "identities": [str(i) for i in about.identities],
            "threads": [str(t) for t in about.threads],
            "phones": list(about.phones),
            "subjects": list(about.subjects),
        }

        def read(spec: TableSpec, where: str) -> list[Row]:
            sql = f"SELECT {', '.join(spec.columns)} FROM {spec.name} WHERE {where} ORDER BY {spec.key}"  # noqa: S608
            return [dict(zip(spec.columns, values, strict=True)) for values in self._rows(sql, params)]

        return PrivateRows(
            ledger=read(LEDGER_PRIVATE, _ABOUT_DECISION),
            conflicts=read(CONFLICTS_PRIVATE, _ABOUT_DECISION),
            constraints=read(CONSTRAINTS_PRIVATE, "e164 = ANY(%(phones)s::text[])"),
            consent=read(
                CONSENT_ROWS, "e164 = ANY(%(phones)s::text[]) OR subject = ANY(%(subjects)s::text[])"
            ),
            outbox=read(
                OUTBOX_EVENTS,
                "customer_id = ANY(%(customers)s::uuid[])"
                " AND (thread_id IS NULL OR NOT thread_id = ANY(%(threads)s::uuid[]))",
            ),
        )

    def write(self, writes: Sequence[Write]) -> None:
        """Every write in one round trip. A new row another transaction inserted first fails
        its plain INSERT on the primary key (after waiting for that transaction to end)."""
        script = bulk_sql.Script()
        for write in writes:
            table = write.table
            if write.kind == "insert":
                script.insert(table.name, table.columns, write.rows)
            elif write.kind == "update":
                script.update(table.name, table.key, table.columns, write.rows)
            elif write.kind == "delete":
                script.delete(table.name, table.key, write.rows)
            elif write.kind == "insert_missing":
                script.insert(
                    table.name,
                    table.columns,
                    write.rows,
                    f"ON CONFLICT ({', '.join(table.unique)}) DO NOTHING",
                )
            elif write.kind == "upsert":
                others = ", ".join(f"{c} = EXCLUDED.{c}" for c in table.columns if c not in table.unique)
                script.insert(
                    table.name,
                    table.columns,
                    write.rows,
                    f"ON CONFLICT ({', '.join(table.unique)}) DO UPDATE SET {others}",
                )
            else:
                script.insert(table.name, table.columns, write.rows)
        if self._locks:
            script.statements.insert(0, self._locks.rstrip(";\n"))
            self._locks = ""
        try:
            script.run(self._cursor)
        except psycopg2.errors.UniqueViolation as exc:
            if exc.diag.constraint_name in _KEYED:
                raise ConcurrentWriteError(f"a new row already existed ({exc.diag.constraint_name})") from exc
            raise


class PostgresUnitOfWork:
    """One transaction on the engine; the repository's writes go out at commit."""

    identities: Repository

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._committed = False

    def __enter__(self) -> PostgresUnitOfWork:
        try:
            self._conn = self._engine.connect()
            self._tx = self._conn.begin()
            self.identities = Repository(PostgresRows(self._conn))
        except Exception as exc:
            if transient_db_error(exc):
                raise TransientError(f"{type(exc).__name__}: {exc}") from exc
            raise
        self._committed = False
        return self

    def commit(self) -> None:
        self.identities.flush()
        self._tx.commit()
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self._rollback(quietly=exc is not None)
        finally:
            self._conn.close()
        if exc is not None and transient_db_error(exc):
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc

    def _rollback(self, quietly: bool) -> None:
        try:
            self._tx.rollback()
        except Exception:
            if not quietly:
                raise
            # The connection broke with the error being raised: that error says more.
            log.debug("rollback failed after an error", exc_info=True)


@cache
def _load_sql(table: TableSpec) -> str:
    key_type = bulk_sql.sql_type(table.name, table.key)
    return (
        f"SELECT {', '.join(table.columns)} FROM {table.name}"  # noqa: S608 - fixed names, values bound
        f" WHERE {table.key} = ANY(%(keys)s::{key_type}[]) ORDER BY {table.key} FOR UPDATE"
    )
