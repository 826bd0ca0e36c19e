"""COPY text-format fields as PostgreSQL reads them back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from workers.adapters import bulk_sql


def _unescape(field: str) -> str:
    """How COPY's text format reads a field (the escapes bulk_sql writes)."""
    out, i = [], 0
    escapes = {"\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
    while i < len(field):
        if field[i] == "\\":
            out.append(escapes[field[i + 1]])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


@given(st.text())
def test_text_fields_survive_copy(text: str) -> None:
    field = bulk_sql._copy_field(text, "text")
    assert not {"\n", "\r", "\t"} & set(field)  # a raw one would end the field or the row
    assert _unescape(field) == text


@given(st.dictionaries(st.text(), st.text() | st.integers() | st.none()))
def test_jsonb_fields_survive_copy(value: dict[str, object]) -> None:
    field = bulk_sql._copy_field(value, "jsonb")
    assert not {"\n", "\r", "\t"} & set(field)
    assert _unescape(field) == bulk_sql._json(value)


def test_scalars() -> None:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    key = uuid.uuid4()
    assert [bulk_sql._copy_field(v, "text") for v in (None, True, False, at, key, 3, 0.5)] == [
        "\\N",
        "t",
        "f",
        "2026-01-05T09:00:00+00:00",
        str(key),
        "3",
        "0.5",
    ]
