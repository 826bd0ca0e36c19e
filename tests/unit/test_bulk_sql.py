"""A unit of work's writes as one query: each statement binds its own parameters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from workers.adapters import bulk_sql
from workers.adapters.rows import Encoded


def test_statements_of_one_script_bind_parameters_of_their_own() -> None:
    script = bulk_sql.Script()
    a, b = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 3, 1, tzinfo=UTC)
    script.insert("customers", ("id", "created_at"), [{"id": a, "created_at": at}])
    script.insert(
        "customers", ("id", "created_at"), [{"id": b, "created_at": at}], "ON CONFLICT (id) DO NOTHING"
    )
    script.update("customers", "id", ("id", "name"), [{"id": a, "name": None}])
    assert len(script.statements) == 3
    assert script.params["s0_p0"] == f"{{{a}}}" and script.params["s1_p0"] == f"{{{b}}}"
    assert script.params["s0_p1"] == "{2026-03-01T00:00:00+00:00}"
    assert script.params["s2_p1"] == [None]
    assert "%(s1_p0)s AS uuid[]" in script.statements[1] and script.statements[1].endswith("DO NOTHING")
    assert script.statements[2].startswith("UPDATE customers AS t SET name = v.name FROM unnest(")


def test_json_is_encoded_once_or_taken_as_encoded() -> None:
    script = bulk_sql.Script()
    rows = [{"events": [{"a": "é"}]}, {"events": Encoded('[{"a":1}]')}, {"events": None}]
    script.insert("resolved_messages", ("events",), rows)
    assert script.params["s0_p0"] == ['[{"a":"é"}]', '[{"a":1}]', None]
    assert "AS json[]" in script.statements[0]


def test_uuids_and_times_go_as_one_array_literal_anything_else_as_a_list() -> None:
    a = uuid.UUID("6f1c2d3e-8a4b-5c6d-9e7f-0a1b2c3d4e5f")
    at = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=UTC)
    assert bulk_sql.array_literal([a, None, at]) == (
        "{6f1c2d3e-8a4b-5c6d-9e7f-0a1b2c3d4e5f,NULL,2026-03-01T12:30:15.000250+00:00}"
    )
    assert bulk_sql.array_literal([]) == "{}"
    # Text could hold what a literal must quote (a comma, a brace): psycopg2 adapts it.
    assert bulk_sql.array_literal([a, "x,y", None]) == [str(a), "x,y", None]
