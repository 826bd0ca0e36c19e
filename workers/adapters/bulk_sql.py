"""Set-based writes of the identity repository's PostgreSQL store: one statement per table, on
the DBAPI cursor.

Rows are dicts of column -> Python value. Inserts and updates go through unnest() over one
array parameter per column (psycopg2 renders Python lists as arrays); append-only rows that
cannot conflict go through COPY, which skips the array literal entirely. The SQL text of each
(table, columns, clause) is built once. These run on the transaction's own DBAPI connection,
so they commit or roll back with everything else.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from schema import jsoncodec
from workers.adapters.rows import Encoded

Row = dict[str, Any]

# PostgreSQL type of each column the batch store writes (text when not listed).
SQL_TYPES = {
    "id": "uuid",
    "customer_id": "uuid",
    "other_customer_id": "uuid",
    "identity_id": "uuid",
    "thread_id": "uuid",
    "merged_into": "uuid",
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
    "confidence": "double precision",
    "message_count": "integer",
    "evidence": "jsonb",
    "events": "jsonb",
}


def insert(
    cursor: Any, table: str, columns: tuple[str, ...], rows: Sequence[Row], tail: str = ""
) -> list[Any]:
    """INSERT ... SELECT FROM unnest(...) [tail]; returns the rows of a RETURNING tail."""
    cursor.execute(_insert_sql(table, columns, tail), _arrays(columns, rows))
    return cursor.fetchall() if "RETURNING" in tail else []


def update(cursor: Any, table: str, key: str, columns: tuple[str, ...], rows: Sequence[Row]) -> None:
    """Set every column of each row (by its key) to the row's value."""
    cursor.execute(_update_sql(table, key, columns), _arrays(columns, rows))


def copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Sequence[Row]) -> None:
    """COPY rows in (text format). Only for rows no constraint can refuse but a bug."""
    types = [SQL_TYPES.get(c, "text") for c in columns]
    lines = [
        "\t".join(_copy_field(row.get(c), t) for c, t in zip(columns, types, strict=True)) for row in rows
    ]
    buffer = io.BytesIO(("\n".join(lines) + "\n").encode())
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


@cache
def _insert_sql(table: str, columns: tuple[str, ...], tail: str) -> str:
    names = ", ".join(columns)
    return f"INSERT INTO {table} ({names}) SELECT {names} FROM {_unnest(columns)} {tail}"  # noqa: S608


@cache
def _update_sql(table: str, key: str, columns: tuple[str, ...]) -> str:
    sets = ", ".join(f"{c} = v.{c}" for c in columns if c != key)
    return f"UPDATE {table} AS t SET {sets} FROM {_unnest(columns)} WHERE t.{key} = v.{key}"  # noqa: S608


def _unnest(columns: tuple[str, ...]) -> str:
    arrays = ", ".join(f"CAST(%(p{i})s AS {SQL_TYPES.get(c, 'text')}[])" for i, c in enumerate(columns))
    return f"unnest({arrays}) AS v({', '.join(columns)})"


def _arrays(columns: tuple[str, ...], rows: Sequence[Row]) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {}
    for index, column in enumerate(columns):
        sql_type = SQL_TYPES.get(column, "text")
        if sql_type == "uuid":
            params[f"p{index}"] = [None if (v := row.get(column)) is None else str(v) for row in rows]
        elif sql_type == "jsonb":
            params[f"p{index}"] = [None if (v := row.get(column)) is None else _json(v) for row in rows]
        else:
            params[f"p{index}"] = [row.get(column) for row in rows]
    return params


def _json(value: Any) -> str:
    # Pre-encoded JSON (the resolver encodes each event once, for Kafka and the outbox alike).
    if isinstance(value, Encoded):
        return value.text
    return jsoncodec.dumps(value).decode()


def _escaped(text: str) -> str:
    """COPY's text format: backslash, newline, carriage return and tab escaped. Each is looked
    for first (a C scan): most values have none, and the outbox's kilobytes of JSON have only
    backslashes, which str.translate would have walked character by character."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\n" in text:
        text = text.replace("\n", "\\n")
    if "\r" in text:
        text = text.replace("\r", "\\r")
    if "\t" in text:
        text = text.replace("\t", "\\t")
    return text


def _copy_field(value: Any, sql_type: str) -> str:
    if value is None:
        return "\\N"
    if sql_type == "jsonb":
        return _escaped(_json(value))
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (uuid.UUID, int)):
        return str(value)
    return _escaped(str(value))
