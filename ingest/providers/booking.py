"""The business's own booking form: a JSON POST from its website's backend.

Authenticated by either header, both keyed by settings.booking_api_key:
- `X-Api-Key: <key>` (simple; for a server-side form handler), or
- `X-Signature-256: sha256=<hex HMAC-SHA256(key, raw body)>` (the key never travels).

Body (only the contact fields matter; unknown fields are kept in `raw`):
    {"id": "web-123", "name": "Ana", "email": "ana@example.com", "phone": "(916) 555-0142",
     "guests": 4, "date": "2026-07-01T19:30", "total": "180.00", "notes": "window seat",
     "source": "website", "submitted_at": "2026-06-20T10:00:00Z"}
At least one of name, email and phone is required; the phone is kept exactly as typed.
Without an `id` the booking's id is a hash of its canonical JSON, so a double submit of the
same form is one booking downstream.

An opt-in given with the form (a ticked box) travels with the booking: `"consent": true`, the
exact text the customer agreed to in `consent_text` (required then), optionally `consent_at`
(when they agreed; the submit time otherwise) and `consent_channels` (default ["sms"]).
An unticked box (`false` or absent) records nothing: it is not an opt-out.

Versions: a booking re-sent with the same `id` and different content is an update, not a
duplicate. Its message id is `<id>#<version>`, the version being a hash of the whole form, so
a redelivery of the same content is still the same message, and each change is a new one on
the booking's thread (`booking:<source>:<id>`). The version's time is the form's `updated_at`
when it sends one, else `submitted_at`: the timeline shows the latest by that time, whatever
order the versions arrive in.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from ingest.edge import Reply, json_reply, outcome_of
from ingest.providers.base import Mapped, PayloadError, opt_ident
from ingest.providers.shared_key import SharedKeyAdapter
from ingest.timeutil import normalize
from schema.envelopes import Booking, Party, RawEnvelope
from schema.topics import CONSENT_CHANNELS

MAX_TEXT = 4000
VERSION_CHARS = 16  # hex digits of the content hash naming a version: 64 bits
MAX_GUESTS = 100_000
_TEXT_FIELDS = ("name", "email", "phone", "date", "notes")


class BookingAdapter(SharedKeyAdapter):
    name = "booking"
    channel = "booking"
    key_name = "the booking API key"

    def map(self, payload: Any, received_at: str) -> Mapped:
        return map_payload(payload, received_at)

    def acknowledge(self, mapped: Mapped) -> Reply:
        envelope = mapped.envelopes[0] if mapped.envelopes else None
        payload: dict[str, Any] = {"status": "ok", "booking_id": None}
        if envelope is not None:
            payload["booking_id"], version = booking_version(envelope.provider_message_id)
            if version is not None:
                payload["version"] = version
        return json_reply(202 if envelope else 200, outcome_of(mapped), payload)


def booking_version(message_id: str) -> tuple[str, str | None]:
    """(the form's booking id, the version) of a booking's message id; an id-less booking's
    content hash is both its id and its only version."""
    form_id, mark, version = message_id.rpartition("#")
    if mark and len(version) == VERSION_CHARS:
        return form_id, version
    return message_id, None


def map_payload(payload: Any, received_at: str) -> Mapped:
    if not isinstance(payload, dict):
        raise PayloadError("body is not a JSON object")
    texts = {name: _text(payload, name) for name in _TEXT_FIELDS}
    if not (texts["name"] or texts["email"] or texts["phone"]):
        raise PayloadError("one of name, email or phone is required")
    booking = Booking(
        name=texts["name"],
        email=texts["email"],
        phone=texts["phone"],
        guests=_guests(payload),
        date=texts["date"],
        total=_total(payload),
        notes=texts["notes"],
    )
    submitted = normalize(payload.get("submitted_at"), received_at)
    booking = _with_consent(booking, payload, submitted)
    digest = _digest(payload)
    form_id = opt_ident(payload, "id", "booking")
    booking_id = form_id or "sha256:" + digest
    source = _text(payload, "source") or "website"
    envelope = RawEnvelope(
        channel="booking",
        provider="booking_form",
        kind="booking",
        direction="in",
        # Without an id the content hash is the id: each content is a booking of its own.
        provider_message_id=f"{form_id}#{digest[:VERSION_CHARS]}" if form_id else booking_id,
        thread_key=f"booking:{source}:{booking_id}",
        business_account=source,
        customer=Party(
            id=booking.email or booking.phone or "",
            name=booking.name,
            email=booking.email,
            phone=booking.phone,
        ),
        occurred_at=normalize(payload.get("updated_at"), submitted),
        received_at=received_at,
        text=booking.notes,
        booking=booking,
        raw=payload,
    )
    return Mapped((envelope,))


def _with_consent(booking: Booking, payload: dict[str, Any], submitted_at: str) -> Booking:
    """The booking with the opt-in the customer gave on the form, if they gave one."""
    given = payload.get("consent")
    if given is None or given is False:
        return booking
    if given is not True:
        raise PayloadError("consent: true or false")
    text = payload.get("consent_text")
    if not isinstance(text, str) or not text.strip():
        raise PayloadError("consent_text: the exact text the customer agreed to is required with consent")
    if len(text) > MAX_TEXT:
        raise PayloadError(f"consent_text: longer than {MAX_TEXT} characters")
    channels = payload.get("consent_channels", ["sms"])
    if (
        not isinstance(channels, list)
        or not channels
        or not all(isinstance(c, str) and c in CONSENT_CHANNELS for c in channels)
    ):
        raise PayloadError(f"consent_channels: a list of {', '.join(CONSENT_CHANNELS)}")
    return replace(
        booking,
        consent_text=text,  # exactly as agreed to: not trimmed
        consent_at=normalize(payload.get("consent_at"), submitted_at),
        consent_channels=tuple(dict.fromkeys(channels)),
    )


def _text(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{name}: not a string")
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise PayloadError(f"{name}: longer than {MAX_TEXT} characters")
    return value or None


def _guests(payload: dict[str, Any]) -> int | None:
    value = payload.get("guests")
    if value is None or value == "":
        return None
    if (
        isinstance(value, str)
        and value.strip().isascii()
        and value.strip().isdigit()
        and len(value.strip()) <= 6
    ):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_GUESTS:
        raise PayloadError(f"guests: not a whole number between 0 and {MAX_GUESTS}")
    return value


def _total(payload: dict[str, Any]) -> str | None:
    value = payload.get("total")
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) > 64:
            raise PayloadError("total: longer than 64 characters")
        return value.strip() or None
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 1e12:
        raise PayloadError("total: not a number or a string")
    return str(value)


def _digest(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]
