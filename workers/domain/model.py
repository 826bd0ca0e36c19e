"""Value objects of the resolution pipeline. Pure: stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

EvidenceSource = Literal["attested", "form", "text"]


@dataclass(frozen=True)
class PhoneEvidence:
    """A phone number tied to a message, with how much it says about who the customer is.

    `e164` is the canonical number (equivalence-class representative); `address` is what the
    provider or the person wrote. Only evidence whose owner is the sender identifies them.
    """

    e164: str
    address: str
    source: EvidenceSource
    confidence: float
    rule: str
    owner: str = "sender"
    span: tuple[int, int] | None = None

    @property
    def identifies_sender(self) -> bool:
        return self.owner == "sender"

    def to_dict(self) -> dict[str, Any]:
        return {
            "e164": self.e164,
            "address": self.address,
            "source": self.source,
            "confidence": self.confidence,
            "rule": self.rule,
            "owner": self.owner,
            "span": list(self.span) if self.span else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhoneEvidence:
        span = data.get("span")
        return cls(
            e164=str(data["e164"]),
            address=str(data["address"]),
            source=data["source"],
            confidence=float(data["confidence"]),
            rule=str(data["rule"]),
            owner=str(data.get("owner", "sender")),
            span=(int(span[0]), int(span[1])) if span else None,
        )


@dataclass(frozen=True)
class ConsentSignal:
    """An opt-out or opt-in said by the customer (keyword), reported by the provider, or given
    on the booking form (`channels` it covers, the exact `text` agreed to, and `at`, when)."""

    status: Literal["opted_in", "opted_out"]
    source: Literal["keyword", "provider", "booking_form"]
    keyword: str | None = None
    channels: tuple[str, ...] = ()  # empty: the message's own channel
    text: str | None = None
    at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status, "source": self.source, "keyword": self.keyword}
        if self.channels or self.text or self.at:
            data.update(channels=list(self.channels), text=self.text, at=self.at)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConsentSignal:
        return cls(
            status=data["status"],
            source=data["source"],
            keyword=data.get("keyword"),
            channels=tuple(str(c) for c in data.get("channels") or ()),
            text=data.get("text"),
            at=data.get("at"),
        )
