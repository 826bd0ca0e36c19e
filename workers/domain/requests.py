"""What the extract stage hands the resolver on the identity.resolve topic."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schema import jsoncodec
from schema.envelopes import RawEnvelope
from workers.domain.model import ConsentSignal, PhoneEvidence

RESOLVE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ResolveRequest:
    envelope: RawEnvelope
    evidence: tuple[PhoneEvidence, ...]
    consent: ConsentSignal | None = None
    # Wall-clock ms when the extract stage saw the message: latency from edge to row.
    seen_ms: int = 0

    @property
    def sender_evidence(self) -> tuple[PhoneEvidence, ...]:
        return tuple(e for e in self.evidence if e.identifies_sender)

    @property
    def best(self) -> PhoneEvidence | None:
        """The strongest number that identifies the sender (ties: the earliest in the text)."""
        own = self.sender_evidence
        if not own:
            return None
        return max(own, key=lambda e: (e.confidence, -(e.span[0] if e.span else -1)))

    def to_json(self, envelope_json: bytes | None = None) -> bytes:
        """The request as the resolve topic carries it. `envelope_json`: the envelope exactly as
        read from its raw topic, embedded as it is (it decodes to the same envelope); re-encoding
        the envelope (dataclasses.asdict) was a fifth of the workers' CPU."""
        body: dict[str, Any] = {
            "schema_version": RESOLVE_SCHEMA_VERSION,
            "evidence": [e.to_dict() for e in self.evidence],
            "consent": self.consent.to_dict() if self.consent else None,
            "seen_ms": self.seen_ms,
        }
        if envelope_json is None:
            body["envelope"] = self.envelope.to_dict()
            return jsoncodec.dumps(body)
        rest = jsoncodec.dumps(body)
        return b'{"envelope":' + envelope_json.strip() + b"," + rest[1:]

    @classmethod
    def from_json(cls, raw: bytes | str) -> ResolveRequest:
        return cls.from_dict(jsoncodec.loads(raw))

    @classmethod
    def from_dict(cls, data: Any) -> ResolveRequest:
        """A request from its decoded JSON (the caller may decode with a faster library)."""
        if not isinstance(data, dict) or data.get("schema_version") != RESOLVE_SCHEMA_VERSION:
            raise ValueError("not a resolve request v1")
        consent = data.get("consent")
        return cls(
            envelope=RawEnvelope.from_dict(data["envelope"]),
            evidence=tuple(PhoneEvidence.from_dict(e) for e in data.get("evidence") or ()),
            consent=ConsentSignal.from_dict(consent) if consent else None,
            seen_ms=int(data.get("seen_ms") or 0),
        )
