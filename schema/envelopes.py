"""The raw envelope: what the ingest edge publishes on `raw.<channel>` (schema_version 1).

This is a wire contract, not the domain model: a team can write its own adapter for another
channel by publishing these (JSON Schema: schema/jsonschema/raw_envelope.v1.json). The
idempotency key of a message is (channel, provider_message_id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

from schema import jsoncodec
from schema.invalid import InvalidMessage, decode_json
from schema.topics import CONSENT_CHANNELS

RAW_SCHEMA_VERSION = 1

Channel = Literal["sms", "whatsapp", "messenger", "instagram", "booking"]
Provider = Literal["twilio", "ringcentral", "meta", "booking_form", "custom"]
# message: text or media from a person; status: delivery/read receipts (no text); booking: the booking
# form; deleted: the customer unsent a message; consent: a provider's opt-out/opt-in signal;
# system: provider notices such as a WhatsApp number change; profile: who the sender is, from the
# provider's user-profile API (the profile fetcher publishes these: customer.handle and .name).
Kind = Literal["message", "status", "booking", "deleted", "consent", "system", "profile"]
Direction = Literal["in", "out"]

KINDS: tuple[str, ...] = ("message", "status", "booking", "deleted", "consent", "system", "profile")


def idempotency_key(channel: str, provider_message_id: str) -> str:
    """The key a message is deduplicated by everywhere: channel + the provider's message id."""
    return f"{channel}:{provider_message_id}"


def _flat(value: Party | Booking) -> dict[str, Any]:
    """A Party or Booking as a dict (their fields are plain values: no copy needed)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


class EnvelopeError(InvalidMessage):
    """A payload that is not a valid raw envelope; the message says which field and why."""


@dataclass(frozen=True)
class Party:
    """One side of a conversation as the provider names it.

    `id` is the provider's user id (PSID, IGSID, wa_id or WhatsApp user id, phone for SMS);
    `phone` is a channel address the provider attests (Twilio From, wa_id, RingCentral
    phoneNumber), raw as sent: normalization happens in the workers, not at the edge.
    """

    id: str = ""
    handle: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Booking:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    guests: int | None = None
    date: str | None = None
    total: str | None = None
    notes: str | None = None
    # The customer's opt-in given with the form, when there was one: the exact text they agreed
    # to, when (ISO-8601 UTC), and the channels it covers (sms, whatsapp, ...). Optional fields
    # added within v1: envelopes without them read as before.
    consent_text: str | None = None
    consent_at: str | None = None
    consent_channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawEnvelope:
    channel: Channel
    provider: Provider
    kind: Kind
    direction: Direction
    provider_message_id: str
    thread_key: str  # provider-scoped conversation key, e.g. "twilio:<To>:<From>"
    business_account: str  # which of the business's lines/pages/accounts
    customer: Party  # the customer's side, whatever the direction
    occurred_at: str  # ISO-8601 UTC; receive time when the provider sends none
    received_at: str
    text: str | None = None
    business: Party = field(default_factory=Party)
    attachments: tuple[dict[str, Any], ...] = ()
    booking: Booking | None = None
    status: str | None = None  # for kind=status: sent/delivered/read/failed...; for consent: opt_out/opt_in
    # For kind=status and kind=deleted: the provider_message_id of the message the event is about
    # (a delivery receipt attaches to the business's message, an unsend hides the customer's).
    refers_to: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the provider's own payload fragment, for replay
    schema_version: int = RAW_SCHEMA_VERSION

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.channel, self.provider_message_id)

    def to_dict(self) -> dict[str, Any]:
        """The envelope as JSON-ready data: what `dataclasses.asdict` gives (attachments as a
        list), but sharing `raw` and the attachments instead of deep-copying them, which was a
        sixth of the edge's CPU per webhook. Callers must not change the nested values."""
        data = {f.name: getattr(self, f.name) for f in _ENVELOPE_FIELDS}
        data["customer"] = _flat(self.customer)
        data["business"] = _flat(self.business)
        data["booking"] = None if self.booking is None else _flat(self.booking)
        data["attachments"] = list(self.attachments)
        return data

    def to_json(self) -> bytes:
        return jsoncodec.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RawEnvelope:
        if not isinstance(data, dict):
            raise EnvelopeError("envelope must be a JSON object")
        version = data.get("schema_version")
        if version != RAW_SCHEMA_VERSION:
            raise EnvelopeError(f"unsupported schema_version {version!r}")
        try:
            booking = data.get("booking")
            envelope = cls(
                channel=data["channel"],
                provider=data["provider"],
                kind=data["kind"],
                direction=data["direction"],
                provider_message_id=str(data["provider_message_id"]),
                thread_key=str(data["thread_key"]),
                business_account=str(data["business_account"]),
                customer=Party(**data["customer"]),
                occurred_at=str(data["occurred_at"]),
                received_at=str(data["received_at"]),
                text=data.get("text"),
                business=Party(**(data.get("business") or {})),
                attachments=tuple(data.get("attachments") or ()),
                booking=_booking(booking) if booking else None,
                status=data.get("status"),
                refers_to=data.get("refers_to"),
                raw=data.get("raw") or {},
            )
        except KeyError as exc:
            raise EnvelopeError(f"missing field {exc.args[0]!r}") from exc
        except TypeError as exc:
            raise EnvelopeError(f"bad field shape: {exc}") from exc
        envelope.check()
        return envelope

    @classmethod
    def from_json(cls, raw: bytes | str) -> RawEnvelope:
        return cls.from_dict(decode_json(raw, EnvelopeError))

    def check(self) -> None:
        """Invariants JSON Schema cannot say conveniently; raises EnvelopeError."""
        if self.channel not in ("sms", "whatsapp", "messenger", "instagram", "booking"):
            raise EnvelopeError(f"unknown channel {self.channel!r}")
        if self.kind not in KINDS:
            raise EnvelopeError(f"unknown kind {self.kind!r}")
        if self.direction not in ("in", "out"):
            raise EnvelopeError(f"unknown direction {self.direction!r}")
        if not self.provider_message_id:
            raise EnvelopeError("empty provider_message_id")
        if not self.thread_key:
            raise EnvelopeError("empty thread_key")
        parse_time(self.occurred_at)
        parse_time(self.received_at)
        _check_types(self)


_TEXT_FIELDS = ("text", "status", "refers_to")


def _booking(data: dict[str, Any]) -> Booking:
    channels = data.get("consent_channels")
    if isinstance(channels, list):
        data = {**data, "consent_channels": tuple(channels)}
    return Booking(**data)


def _check_types(envelope: RawEnvelope) -> None:
    """The field types of the contract (JSON Schema says them; the workers do not run it)."""
    if not isinstance(envelope.customer, Party) or not isinstance(envelope.business, Party):
        raise EnvelopeError("customer and business must be objects")
    for side, party in (("customer", envelope.customer), ("business", envelope.business)):
        if not isinstance(party.id, str):
            raise EnvelopeError(f"{side}.id must be a string")
        for name in ("handle", "name", "phone", "email"):
            if not isinstance(getattr(party, name), str | None):
                raise EnvelopeError(f"{side}.{name} must be a string or null")
    for name in _TEXT_FIELDS:
        if not isinstance(getattr(envelope, name), str | None):
            raise EnvelopeError(f"{name} must be a string or null")
    if not all(isinstance(item, dict) for item in envelope.attachments):
        raise EnvelopeError("attachments must be objects")
    if not isinstance(envelope.raw, dict):
        raise EnvelopeError("raw must be an object")
    booking = envelope.booking
    if booking is not None:
        if not isinstance(booking, Booking):
            raise EnvelopeError("booking must be an object or null")
        for f in fields(Booking):
            if f.name == "consent_channels":
                continue
            value = getattr(booking, f.name)
            wanted = int if f.name == "guests" else str
            if value is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
                raise EnvelopeError(f"booking.{f.name} must be {wanted.__name__} or null")
        channels = booking.consent_channels
        if not isinstance(channels, tuple) or not set(channels) <= set(CONSENT_CHANNELS):
            raise EnvelopeError(f"booking.consent_channels must be a list of {', '.join(CONSENT_CHANNELS)}")
        if booking.consent_at is not None:
            parse_time(booking.consent_at)


_ENVELOPE_FIELDS = fields(RawEnvelope)


# What no PostgreSQL text column takes and no UTF-8 encoder writes: NUL, and a lone surrogate (an
# escaped half of a pair, say an emoji a provider cut in half; a whole pair decodes to one
# character, so any surrogate left in a str is a lone one).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def unstorable(value: str) -> str | None:
    """What in `value` PostgreSQL cannot store ("a NUL character", "a lone surrogate ..."), or
    None when it can store all of it."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate (an emoji cut in half?)"


def storable(value: Any) -> Any:
    """A decoded JSON value with every NUL and lone surrogate, in strings and in object keys,
    replaced by U+FFFD: the edge publishes a customer's message with a visible mark where the
    unstorable character was, rather than an envelope the workers must refuse."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item) for item in value]
    return value


def utc_iso(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, the one time format on our topics."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise EnvelopeError(f"bad timestamp {value!r}") from exc
    if moment.tzinfo is None:
        raise EnvelopeError(f"timestamp without timezone {value!r}")
    return moment
