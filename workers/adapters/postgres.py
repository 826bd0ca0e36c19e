"""The identity repository's rows in PostgreSQL, and the unit of work around them.

`PostgresRows` reads a batch's rows with one statement per table (`= ANY(array)`: one bound
parameter whatever the batch size), locking each (FOR UPDATE) so the repository's cached copy
stays the truth until commit, and writes each table once (bulk_sql: unnest() for inserts and
updates, COPY for appended rows). Statements are plain SQL on the transaction's own DBAPI
cursor, their text built once: SQLAlchemy's compilation of a select per table per batch cost
more than the statements themselves. Inserts that race another worker go through ON CONFLICT,
so the database stays the backstop of the single-writer-per-phone rule when partitions move.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from types import TracebackType
from typing import Any

import psycopg2.errors
from sqlalchemy import Connection, Engine

from phoneunify.retry import transient_db_error
from workers.adapters import bulk_sql
from workers.adapters.repository import Repository
from workers.adapters.rows import (
    CUSTOMERS,
    IDENTITIES,
    PHONES,
    THREADS,
    Claimant,
    ConflictKey,
    Row,
    TableSpec,
    Write,
)
from workers.domain.ports import ConcurrentWriteError, TransientError

log = logging.getLogger(__name__)

# Advisory locks: a namespace of our own (two-int form), and how many buckets keys fold into.
LOCK_SPACE = 0x5055  # "PU"
# Lock ids: 31-bit hashes of the keys. With 1,024 buckets a batch of 500 messages (~1,500
# keys) held most of them, so two workers' batches nearly always shared one and ran one after
# the other; in 2^31 two batches of distinct keys collide about once in a thousand.
LOCK_IDS = 1 << 31

_LOCK = (
    "SELECT count(pg_advisory_xact_lock(%(space)s, b))"
    " FROM (SELECT unnest(%(buckets)s::int[]) AS b ORDER BY 1) AS ordered"
)
_THREADS = (
    "SELECT {columns} FROM threads"
    " WHERE id = ANY(%(ids)s::uuid[]) OR identity_id = ANY(%(identities)s::uuid[])"
    " ORDER BY id FOR UPDATE"
)
_LINKED = "SELECT id, display_name, handle FROM identities WHERE customer_id = %(customer)s"
_WAITING = (
    "SELECT i.id, i.display_name, i.handle"
    " FROM identity_conflicts c JOIN identities i ON c.identity_id = i.id"
    " WHERE c.status = 'open' AND c.e164 = %(e164)s AND c.kind = ANY(%(kinds)s::text[])"
)
_OPEN = (
    "SELECT kind, identity_id, e164, customer_id, other_customer_id FROM identity_conflicts"
    " WHERE status = 'open' AND identity_id = ANY(%(ids)s::uuid[])"
)
_NEVER = (
    "SELECT kind, identity_id, customer_id, other_customer_id FROM identity_constraints"
    " WHERE active AND kind IN ('never_link', 'never_merge') AND (identity_id = ANY(%(identities)s::uuid[])"
    " OR customer_id = ANY(%(customers)s::uuid[]) OR other_customer_id = ANY(%(customers)s::uuid[]))"
)
_MARK = (
    "SELECT kind FROM identity_constraints WHERE e164 = %(e164)s AND active"
    " AND kind IN ('shared', 'not_shared') ORDER BY id DESC LIMIT 1"
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
_RESOLVE_ONE = "UPDATE identity_conflicts SET status = 'resolved', resolved_at = %(at)s WHERE id = %(id)s"


class PostgresRows:
    """`RowStore` on one transaction's connection."""

    def __init__(self, conn: Connection) -> None:
        # The DBAPI cursor of the transaction's own connection: it commits or rolls back with
        # everything else.
        self._cursor: Any = conn.connection.cursor()

    def _rows(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = self._cursor.fetchall()
        return rows

    def lock(self, keys: Sequence[str]) -> None:
        buckets = sorted({_bucket(key) for key in keys})
        if buckets:
            self._cursor.execute(_LOCK, {"space": LOCK_SPACE, "buckets": buckets})

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

    def names_linked_to(self, customer_id: uuid.UUID) -> list[Claimant]:
        return [(i, d, h) for i, d, h in self._rows(_LINKED, {"customer": str(customer_id)})]

    def names_waiting_on(self, e164: str, kinds: Sequence[str]) -> list[Claimant]:
        return [(i, d, h) for i, d, h in self._rows(_WAITING, {"e164": e164, "kinds": list(kinds)})]

    def open_conflicts(self, identity_ids: Sequence[uuid.UUID]) -> list[ConflictKey]:
        found = self._rows(_OPEN, {"ids": [str(i) for i in identity_ids]})
        return [(k, i, e, c, o) for k, i, e, c, o in found]

    def never_constraints(
        self, identity_ids: Sequence[uuid.UUID], customer_ids: Sequence[uuid.UUID]
    ) -> list[Row]:
        params = {"identities": [str(i) for i in identity_ids], "customers": [str(c) for c in customer_ids]}
        return [
            {"kind": k, "identity_id": i, "customer_id": c, "other_customer_id": o}
            for k, i, c, o in self._rows(_NEVER, params)
        ]

    def latest_phone_mark(self, e164: str) -> str | None:
        found = self._rows(_MARK, {"e164": e164})
        return str(found[0][0]) if found else None

    def outbox(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return dict(self._rows(_OUTBOX, {"keys": list(keys)}))

    def resolve_conflicts(
        self,
        at: datetime,
        *,
        between: tuple[uuid.UUID, uuid.UUID] | None = None,
        conflict_id: int | None = None,
    ) -> int:
        if between is not None:
            self._cursor.execute(_RESOLVE_PAIR, {"at": at, "a": str(between[0]), "b": str(between[1])})
        else:
            self._cursor.execute(_RESOLVE_ONE, {"at": at, "id": conflict_id})
        return int(self._cursor.rowcount)

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
            elif write.kind == "insert_missing":
                script.insert(
                    table.name,
                    table.columns,
                    write.rows,
                    f"ON CONFLICT ({', '.join(table.unique)}) DO NOTHING",
                )
            else:
                script.insert(table.name, table.columns, write.rows)
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
    key_type = bulk_sql.SQL_TYPES.get(table.key, "text")
    return (
        f"SELECT {', '.join(table.columns)} FROM {table.name}"  # noqa: S608 - fixed names, values bound
        f" WHERE {table.key} = ANY(%(keys)s::{key_type}[]) ORDER BY {table.key} FOR UPDATE"
    )


def _bucket(key: str) -> int:
    # A stable hash (not Python's salted hash()): every worker process must agree on buckets.
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % LOCK_IDS
