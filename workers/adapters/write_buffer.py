"""The identity repository's write buffer: rows appended during a unit of work, written at commit.

Rows of the keyed tables (customers, phones, identities, threads) are written from the row cache
(row_cache.py); everything appended (ledger, conflicts, constraints, consent, the outbox, phone
addresses) waits here. `writes` hands all of it over in foreign-key order, for one call to the
store at commit.
"""

from __future__ import annotations

from typing import Any

from workers.adapters.rows import (
    ADDRESSES,
    CONFLICTS,
    CONSENT,
    CONSTRAINTS,
    LEDGER,
    OUTBOX,
    ConflictKey,
    Row,
    TableSpec,
    Write,
)


class WriteBuffer:
    def __init__(self) -> None:
        self.ledger: list[Row] = []
        self.conflicts: list[Row] = []
        self.constraints: list[Row] = []
        self.consent: list[Row] = []
        self.outbox: list[Row] = []
        self.addresses: dict[tuple[str, str], Row] = {}
        self.moved: dict[tuple[str, str], Row] = {}
        self._consent_keys: set[str] = set()
        # An erasure's deletes and rewrites, in order, after everything else.
        self.erasure: list[Write] = []

    def add_ledger(self, entry: Row) -> None:
        self.ledger.append(checked(entry, LEDGER, evidence={}))

    def add_conflict(self, values: Row) -> Row:
        row = checked(values, CONFLICTS, evidence={}, status="open")
        self.conflicts.append(row)
        return row

    def add_constraint(self, row: Row) -> None:
        self.constraints.append(checked(row, CONSTRAINTS, active=True))

    def add_consent(self, values: Row) -> None:
        """Once per idempotency key (the stored rows are unique on it too)."""
        key = values.get("idempotency_key")
        if key is not None:
            if key in self._consent_keys:
                return
            self._consent_keys.add(key)
        self.consent.append(checked(values, CONSENT, evidence={}))

    def add_address(self, channel: str, address: str, e164: str, version: str) -> None:
        self.addresses.setdefault(
            (channel, address),
            {"channel": channel, "address": address, "e164": e164, "normalizer_version": version},
        )

    def move_address(self, channel: str, address: str, e164: str, version: str) -> None:
        """The address stands for another number now (re-normalization): written over the stored row."""
        self.moved[(channel, address)] = {
            "channel": channel,
            "address": address,
            "e164": e164,
            "normalizer_version": version,
        }

    def add_outbox(self, row: Row) -> None:
        """A full outbox row (the repository builds it)."""
        self.outbox.append(row)

    def open_conflicts(self) -> list[Row]:
        return [row for row in self.conflicts if row["status"] == "open"]

    def writes(self) -> list[Write]:
        """Everything buffered, in the order the store must write it, and the buffer emptied:
        rows inserted once (their keys may be stored already), then the appended rows."""
        writes: list[Write] = []
        if self.addresses:
            writes.append(Write("insert_missing", ADDRESSES, list(self.addresses.values())))
        if self.moved:
            writes.append(Write("upsert", ADDRESSES, list(self.moved.values())))
        if self.consent:
            writes.append(Write("insert_missing", CONSENT, self.consent))
        for spec, rows in (
            (LEDGER, self.ledger),
            (CONFLICTS, self.conflicts),
            (CONSTRAINTS, self.constraints),
            (OUTBOX, self.outbox),
        ):
            if rows:
                writes.append(Write("append", spec, rows))
        writes.extend(self.erasure)
        self.ledger, self.conflicts, self.constraints, self.consent, self.outbox = [], [], [], [], []
        self.addresses, self.moved, self.erasure = {}, {}, []
        return writes


def conflict_key(row: Row) -> ConflictKey:
    return (
        row["kind"],
        row.get("identity_id"),
        row.get("e164"),
        row.get("customer_id"),
        row.get("other_customer_id"),
    )


def checked(values: Row, spec: TableSpec, **defaults: Any) -> Row:
    """An appended row names known columns only and has every one of them (None when not
    given); a column with a default in the table takes it here when not given, so a buffered
    conflict can still be resolved in memory by a merge."""
    unknown = values.keys() - spec.column_names
    if unknown:
        raise TypeError(f"unknown {spec.name} column(s) {sorted(unknown)}")
    row: Row = dict.fromkeys(spec.columns)
    row.update(defaults)
    row.update((k, v) for k, v in values.items() if v is not None or k not in defaults)
    return row
