"""The erasure fence on Kafka: records on the compacted `privacy.erasures` topic (schema_version 1).

One record per erased subject (a keyed hash of a phone, a thread key or a channel identity),
keyed by the subject, so compaction keeps the latest erasure of each for ever. A resolver
starting on a database restores the fence and the kept opt-outs from it before it resolves
anything: a replay of the raw topics into an empty database then drops what erased people
sent before their erasure, as the live resolver did. JSON Schema:
schema/jsonschema/privacy_erasure.v1.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schema import jsoncodec
from schema.envelopes import EnvelopeError, parse_time
from schema.invalid import InvalidMessage, decode_json
from schema.linked import LinkedEvent

ERASURE_SCHEMA_VERSION = 1
KINDS = ("phone", "thread", "identity")
_OPT_OUT_FIELDS = ("channel", "status", "source", "keyword", "at")


@dataclass(frozen=True)
class FenceRecord:
    subject: str
    kind: str
    erased_at: str
    command_id: str
    # The opt-outs the erasure kept for the subject: {"channel", "status", "source", "keyword", "at"}.
    opt_outs: tuple[dict[str, Any], ...] = ()
    schema_version: int = ERASURE_SCHEMA_VERSION

    def to_json(self) -> bytes:
        return jsoncodec.dumps(
            {
                "schema_version": self.schema_version,
                "subject": self.subject,
                "kind": self.kind,
                "erased_at": self.erased_at,
                "command_id": self.command_id,
                "opt_outs": list(self.opt_outs),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> FenceRecord:
        """Raises InvalidMessage when `raw` is not a fence record v1."""
        data = decode_json(raw)
        if not isinstance(data, dict) or data.get("schema_version") != ERASURE_SCHEMA_VERSION:
            raise InvalidMessage("not a privacy erasure record v1")
        opt_outs = data.get("opt_outs") or []
        try:
            record = cls(
                subject=str(data["subject"]),
                kind=str(data["kind"]),
                erased_at=str(data["erased_at"]),
                command_id=str(data["command_id"]),
                opt_outs=tuple({name: entry.get(name) for name in _OPT_OUT_FIELDS} for entry in opt_outs),
            )
            parse_time(record.erased_at)
            for entry in record.opt_outs:
                parse_time(str(entry["at"]))
        except (KeyError, TypeError, AttributeError, EnvelopeError) as exc:
            raise InvalidMessage(f"bad privacy erasure record: {exc}") from exc
        if record.kind not in KINDS:
            raise InvalidMessage(f"unknown erased subject kind {record.kind!r}")
        return record


def fence_records(event: LinkedEvent) -> list[FenceRecord]:
    """The fence records a `customer.erased` event announces (none for any other event)."""
    if event.type != "customer.erased":
        return []
    return [
        FenceRecord(
            subject=str(entry["subject"]),
            kind=str(entry["kind"]),
            erased_at=event.occurred_at,
            command_id=str(event.data.get("command_id")),
            opt_outs=tuple(entry.get("opt_outs") or ()),
        )
        for entry in event.data.get("fence") or ()
    ]
