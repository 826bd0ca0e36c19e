"""What the extract stage hands the resolver on the identity.resolve topic."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from schema import jsoncodec
from schema.envelopes import Booking, EnvelopeError, Party, RawEnvelope, parse_time, unstorable
from schema.invalid import InvalidMessage, decode_json
from schema.topics import CONSENT_CHANNELS
from workers.domain.model import ConsentSignal, PhoneEvidence

RESOLVE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ResolveRequest:
    envelope: RawEnvelope
    evidence: tuple[PhoneEvidence, ...]
    consent: ConsentSignal | None = None
    # Wall-clock ms when the extract stage saw the message: latency from edge to row.
    seen_ms: int = 0

    @cached_property
    def sender_evidence(self) -> tuple[PhoneEvidence, ...]:
        # Cached (the resolver asks several times per message): the request is frozen.
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
        return cls.from_dict(decode_json(raw), text_storable=text_storable(raw))

    @classmethod
    def from_dict(cls, data: Any, *, text_storable: bool = False) -> ResolveRequest:
        """A request from its decoded JSON (the caller may decode with a faster library).
        Raises InvalidMessage when it breaks the contract, or holds what PostgreSQL cannot store.
        `text_storable`: the JSON text showed that no string in it holds what PostgreSQL cannot
        store (`text_storable(raw)`), so the fields need not be scanned one by one."""
        if not isinstance(data, dict) or data.get("schema_version") != RESOLVE_SCHEMA_VERSION:
            raise InvalidMessage("not a resolve request v1")
        consent = data.get("consent")
        try:
            request = cls(
                envelope=RawEnvelope.from_dict(data["envelope"]),
                evidence=tuple(PhoneEvidence.from_dict(e) for e in data.get("evidence") or ()),
                consent=ConsentSignal.from_dict(consent) if consent else None,
                seen_ms=int(data.get("seen_ms") or 0),
            )
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidMessage):
                raise
            raise InvalidMessage(f"bad resolve request: {type(exc).__name__}: {exc}") from exc
        request.check(text_scanned=text_storable)
        return request

    def check(self, text_scanned: bool = False) -> None:
        """What the resolver stores must be storable: numbers in E.164, confidences in [0, 1],
        known sources and consent values, and text PostgreSQL accepts (no NUL character, no
        lone surrogate such as an emoji a provider cut in half). `text_scanned`: the message's
        whole JSON text is known to hold neither (`text_storable`), so its fields' text is not
        scanned again, field by field."""
        scan = not text_scanned
        for evidence in self.evidence:
            if not _E164.match(evidence.e164):
                raise InvalidMessage("evidence e164 is not an E.164 number")
            if evidence.source not in ("attested", "form", "text"):
                raise InvalidMessage(f"unknown evidence source {evidence.source!r}")
            if not 0.0 <= evidence.confidence <= 1.0:
                raise InvalidMessage("evidence confidence must be within [0, 1]")
            if scan:
                _storable("evidence", evidence.address, evidence.rule, evidence.owner)
        consent = self.consent
        if consent is not None and (
            consent.status not in ("opted_in", "opted_out")
            or consent.source not in ("keyword", "provider", "booking_form")
        ):
            raise InvalidMessage("unknown consent status or source")
        if consent is not None:
            if scan:
                _storable("consent", consent.keyword, consent.text, *consent.channels)
            if not set(consent.channels) <= _CONSENT_CHANNELS:
                raise InvalidMessage("consent names a channel one cannot send on")
            if consent.at is not None:
                try:
                    parse_time(consent.at)
                except EnvelopeError as exc:
                    raise InvalidMessage(f"consent time: {exc}") from exc
        if scan:
            _check_envelope_text(self.envelope)


def _check_envelope_text(env: RawEnvelope) -> None:
    """The envelope's text, field by field, and its attachments: nothing PostgreSQL cannot store."""
    _storable(
        "envelope",
        env.provider_message_id,
        env.thread_key,
        env.business_account,
        env.text,
        env.status,
        env.refers_to,
    )
    for party in (env.customer, env.business):
        _storable("party", *(getattr(party, f.name) for f in _PARTY_FIELDS))
    if env.booking is not None:
        _storable(
            "booking", *(v for f in _BOOKING_FIELDS if isinstance(v := getattr(env.booking, f.name), str))
        )
    if env.attachments:
        try:
            encoded = jsoncodec.dumps(list(env.attachments))
        except (UnicodeEncodeError, TypeError, ValueError) as exc:
            raise InvalidMessage(f"attachments cannot be stored: {exc}") from exc
        if b"\\u0000" in encoded:
            raise InvalidMessage("attachments hold a NUL character, which PostgreSQL cannot store")


_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_CONSENT_CHANNELS = frozenset(CONSENT_CHANNELS)
_PARTY_FIELDS = fields(Party)
_BOOKING_FIELDS = fields(Booking)


def text_storable(raw: bytes | str) -> bool:
    """Whether a message's JSON text shows, as a whole, that no string decoded from it holds a
    NUL or a lone surrogate (what PostgreSQL cannot store): one scan of the message in C instead
    of one per field. JSON can write either only as a \\u escape, and a decoder can only make
    a lone surrogate out of such an escape or out of bytes that encode one (UTF-8's lead byte
    0xED; the standard library's fallback decodes bytes with surrogatepass); a NUL byte would
    mean another encoding (UTF-16, UTF-32), so it does not qualify either. A raw NUL or control
    character in a string is not JSON at all: both decoders refuse it. False only means the
    fields are scanned one by one, as always."""
    return isinstance(raw, bytes) and b"\\u" not in raw and b"\xed" not in raw and b"\x00" not in raw


def _storable(where: str, *values: str | None) -> None:
    for value in values:
        if value is not None and (problem := unstorable(value)) is not None:
            raise InvalidMessage(f"{where} text holds {problem}, which PostgreSQL cannot store")
