"""The extract stage's use case: from a raw envelope to the phone evidence the resolver weighs.

Pure apart from the phone core: no Kafka, no database. Evidence weights (invariant 6):
a number the provider attests is strong, a number typed into the booking form's phone field
nearly so, a number in message text is as strong as the extractor's cues make it, and a
number in the business's own outbound message or one of the business's own numbers never
identifies a customer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from schema.envelopes import RawEnvelope
from workers.domain import phones
from workers.domain.consent import keyword_signal
from workers.domain.model import ConsentSignal, PhoneEvidence
from workers.domain.requests import ResolveRequest

ATTESTED_CONFIDENCE = 1.0
FORM_CONFIDENCE = 0.95

_ADDRESS_PROVIDER = {"whatsapp": "whatsapp", "booking": "booking_form"}
# The raw envelope's consent statuses (opt_out/opt_in, what the adapters send) to the ledger's.
_PROVIDER_CONSENT: dict[str, Literal["opted_out", "opted_in"]] = {
    "opt_out": "opted_out",
    "opt_in": "opted_in",
    "opted_out": "opted_out",
    "opted_in": "opted_in",
}


@dataclass(frozen=True)
class EvidencePolicy:
    region: str
    business_numbers: frozenset[str] = frozenset()

    @classmethod
    def build(cls, region: str, business_numbers: Iterable[str]) -> EvidencePolicy:
        own: set[str] = set()
        for number in business_numbers:
            try:
                own.add(phones.canonical(phones.normalize(number, region)))
            except phones.PhoneError:
                continue
        return cls(region=region, business_numbers=frozenset(own))


@dataclass(frozen=True)
class Rejected:
    """A number that could not be normalized, kept for metrics (reason only, never the digits)."""

    source: str
    reason: str


def address_number(channel: str, address: str, region: str, provider: str | None = None) -> str:
    """The canonical number a channel address stands for, read exactly as `gather` reads an
    attested address (re-normalization reads stored addresses with it). Raises PhoneError.
    Without the provider, an SMS address is read as Twilio reads it (RingCentral's read the same)."""
    kind = _ADDRESS_PROVIDER.get(channel, provider or "twilio")
    return phones.normalize_channel_address(address, kind, region).canonical


def gather(
    envelope: RawEnvelope, policy: EvidencePolicy, seen_ms: int = 0
) -> tuple[ResolveRequest, list[Rejected]]:
    evidence: list[PhoneEvidence] = []
    rejected: list[Rejected] = []

    attested = envelope.customer.phone
    if attested and envelope.kind != "booking":
        try:
            e164 = address_number(envelope.channel, attested, policy.region, envelope.provider)
            if e164 not in policy.business_numbers:
                evidence.append(
                    PhoneEvidence(e164, attested, "attested", ATTESTED_CONFIDENCE, "provider_attested")
                )
        except phones.PhoneError as exc:
            rejected.append(Rejected("attested", str(exc.reason)))

    if envelope.booking is not None and envelope.booking.phone:
        try:
            e164 = phones.canonical(phones.normalize(envelope.booking.phone, policy.region))
            if e164 not in policy.business_numbers:
                evidence.append(
                    PhoneEvidence(e164, envelope.booking.phone, "form", FORM_CONFIDENCE, "booking_form_field")
                )
        except phones.PhoneError as exc:
            rejected.append(Rejected("form", str(exc.reason)))

    text = envelope.text or (envelope.booking.notes if envelope.booking else None)
    if text and envelope.kind in ("message", "booking"):
        context = phones.ExtractionContext(
            direction=envelope.direction, business_numbers=policy.business_numbers, channel=envelope.channel
        )
        for candidate in phones.extract(text, policy.region, context):
            e164 = phones.canonical(candidate.e164)
            owner = str(candidate.owner.value if hasattr(candidate.owner, "value") else candidate.owner)
            if e164 in policy.business_numbers or envelope.direction == "out":
                owner = "business"
            evidence.append(
                PhoneEvidence(
                    e164,
                    candidate.raw,
                    "text",
                    round(float(candidate.confidence), 4),
                    _text_rule(candidate.evidence),
                    owner=owner,
                    span=(candidate.start, candidate.end),
                )
            )

    consent: ConsentSignal | None = keyword_signal(envelope.text, envelope.channel, envelope.direction)
    provider_status = _PROVIDER_CONSENT.get(envelope.status or "")
    if envelope.kind == "consent" and provider_status is not None:
        consent = ConsentSignal(status=provider_status, source="provider")
    booking = envelope.booking
    if booking is not None and booking.consent_text:
        # The form's opt-in: the customer agreed to this text, then, for these channels.
        consent = ConsentSignal(
            status="opted_in",
            source="booking_form",
            channels=booking.consent_channels or ("sms",),
            text=booking.consent_text,
            at=booking.consent_at,
        )
    return ResolveRequest(
        envelope=envelope, evidence=tuple(evidence), consent=consent, seen_ms=seen_ms
    ), rejected


def _text_rule(evidence: tuple[str, ...]) -> str:
    """Name the rule after the strongest cue the extractor saw."""
    if any(item.startswith("cue:self") for item in evidence):
        return "text_self_cue"
    if any(item.startswith("cue:") for item in evidence):
        return "text_cue"
    return "text_bare"
