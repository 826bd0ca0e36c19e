"""Set-based writes of the identity repository's PostgreSQL store: one statement per table, all
of a unit of work's statements in one round trip, on the DBAPI cursor.

Rows are dicts of column -> Python value. Inserts and updates go through unnest() over one
array parameter per column (psycopg2 renders Python lists as arrays, in C). The SQL text of
each (table, columns, clause, place in the script) is built once. These run on the
transaction's own DBAPI connection, so they commit or roll back with everything else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from schema import jsoncodec
from workers.adapters.rows import Encoded

Row = dict[str, Any]

# PostgreSQL type of each column the repository writes (text when not listed).
SQL_TYPES = {
    "id": "uuid",
    "customer_id": "uuid",
    "other_customer_id": "uuid",
    "identity_id": "uuid",
    "thread_id": "uuid",
    "merged_into": "uuid",
    "released_from": "uuid",
    "name_at": "timestamptz",
    "email_at": "timestamptz",
    "created_at": "timestamptz",
    "first_seen_at": "timestamptz",
    "last_seen_at": "timestamptz",
    "first_message_at": "timestamptz",
    "last_message_at": "timestamptz",
    "resolved_at": "timestamptz",
    "at": "timestamptz",
    "shared": "boolean",
    "active": "boolean",
    "confidence": "double precision",
    "message_count": "integer",
    "evidence": "jsonb",
    "events": "json",
    "seq": "bigint",
    "erased_at": "timestamptz",
}
# Where a column's type differs by table: the conflicts' and constraints' ids are sequences.
TABLE_TYPES = {("identity_conflicts", "id"): "bigint", ("identity_constraints", "id"): "bigint"}


def sql_type(table: str, column: str) -> str:
    return TABLE_TYPES.get((table, column)) or SQL_TYPES.get(column, "text")


class Script:
    """Statements sent to PostgreSQL as one query: psycopg2 sends the text of several statements,
    separated by semicolons, in one round trip (their parameters bound client-side, as always
    with psycopg2). A unit of work's writes take one round trip however many tables they touch;
    the first statement that fails aborts the rest, and the transaction with them."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.params: dict[str, Any] = {}

    def insert(self, table: str, columns: tuple[str, ...], rows: Sequence[Row], tail: str = "") -> None:
        """INSERT ... SELECT FROM unnest(...) [tail]."""
        prefix = self._prefix()
        self.statements.append(_insert_sql(table, columns, tail, prefix))
        self.params.update(_arrays(table, columns, rows, prefix))

    def update(self, table: str, key: str, columns: tuple[str, ...], rows: Sequence[Row]) -> None:
        """Set every column of each row (by its key) to the row's value."""
        prefix = self._prefix()
        self.statements.append(_update_sql(table, key, columns, prefix))
        self.params.update(_arrays(table, columns, rows, prefix))

    def delete(self, table: str, key: str, rows: Sequence[Row]) -> None:
        """Delete every row whose `key` column holds one of the rows' values."""
        prefix = self._prefix()
        self.statements.append(
            f"DELETE FROM {table} WHERE {key} = ANY(CAST(%({prefix}p0)s AS {sql_type(table, key)}[]))"  # noqa: S608
        )
        self.params.update(_arrays(table, (key,), rows, prefix))

    def run(self, cursor: Any) -> None:
        cursor.execute(";\n".join(self.statements), self.params)

    def _prefix(self) -> str:
        return f"s{len(self.statements)}_"


@cache
def _insert_sql(table: str, columns: tuple[str, ...], tail: str, prefix: str) -> str:
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) SELECT {names} FROM {_unnest(table, columns, prefix)} {tail}"  # noqa: S608


@cache
def _update_sql(table: str, key: str, columns: tuple[str, ...], prefix: str) -> str:
    sets = ", ".join(f"{c} = v.{c}" for c in columns if c != key)
    return f"UPDATE {table} AS t SET {sets} FROM {_unnest(table, columns, prefix)} WHERE t.{key} = v.{key}"  # noqa: S608


def _unnest(table: str, columns: tuple[str, ...], prefix: str) -> str:
    arrays = ", ".join(f"CAST(%({prefix}p{i})s AS {sql_type(table, c)}[])" for i, c in enumerate(columns))
    return f"unnest({arrays}) AS v({', '.join(columns)})"


def _arrays(table: str, columns: tuple[str, ...], rows: Sequence[Row], prefix: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for index, column in enumerate(columns):
        kind = sql_type(table, column)
        name = f"{prefix}p{index}"
        if kind in ("uuid", "timestamptz"):
            params[name] = array_literal([row.get(column) for row in rows])
        elif kind in ("jsonb", "json"):
            params[name] = [None if (v := row.get(column)) is None else _json(v) for row in rows]
        else:
            params[name] = [row.get(column) for row in rows]
    return params


def array_literal(values: Iterable[Any]) -> str | list[Any]:
    """uuids and times (and None) as one PostgreSQL array literal, '{..,NULL,..}', for the
    statement to CAST to uuid[] or timestamptz[]: their text (str(uuid), isoformat()) holds no
    character an array literal quotes, so one bound string takes the place of a value psycopg2
    adapts and quotes one by one (half the cost, for the most frequent columns). A time goes as
    the isoformat() psycopg2 itself writes, read through the same cast (a naive time takes the
    session's zone either way). Any other value: the list as it is, for psycopg2 to adapt."""
    values = list(values)
    parts: list[str] = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, uuid.UUID):
            parts.append(str(value))
        elif isinstance(value, datetime):
            parts.append(value.isoformat())
        else:
            return [None if v is None else str(v) if isinstance(v, uuid.UUID) else v for v in values]
    return "{" + ",".join(parts) + "}"


def _json(value: Any) -> str:
    # Pre-encoded JSON (the resolver encodes each event once, for Kafka and the outbox alike).
    if isinstance(value, Encoded):
        return value.text
    return jsoncodec.dumps(value).decode()
