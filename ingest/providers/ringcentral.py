"""RingCentral SMS through the message-store instant event (`.../message-store/instant?type=SMS`).

- Handshake: when a subscription is created RingCentral POSTs an empty body with a
  `Validation-Token` header; we answer 200 with the same header and `Content-Type:
  application/json` (without it RingCentral reports SUB-525).
- Authenticity: RingCentral has no HMAC. The subscription must be created with a
  `verificationToken`; every notification then carries `Verification-Token`, compared here in
  constant time. Without settings.ringcentral_verification_token the endpoint is disabled
  (503, handshake included), like every other provider without its secret: fail closed.
- Direction: the instant filter is documented for inbound SMS, but an outbound record has the
  same shape; the direction decides who the customer is (`from` inbound, `to` outbound), and
  outbound records are kept as direction "out", never as customer text.
- Other notifications (plain message-store change counts, subscription reminders, non-SMS
  types) carry no message and are acknowledged and counted.
"""

from __future__ import annotations

import re
from typing import Any

from ingest import signatures
from ingest.edge import Inbound, Reply, forbidden, json_reply, not_configured, outcome_of, unauthorized
from ingest.metrics import HANDSHAKE
from ingest.providers.base import (
    Mapped,
    PayloadError,
    ident,
    load_json,
    obj,
    objects,
    opt_ident,
    text_or_none,
)
from ingest.timeutil import normalize
from schema.envelopes import Direction, Party, RawEnvelope

_TOKEN_SHAPE = re.compile(r"^[\x21-\x7e]{1,512}$")  # visible ASCII; keeps the reply header safe and small
_DIRECTIONS: dict[str, Direction] = {"inbound": "in", "outbound": "out"}


class RingCentralAdapter:
    name = "ringcentral"
    channel = "sms"

    def __init__(self, verification_token: str) -> None:
        self._token = verification_token

    def handshake(self, inbound: Inbound) -> Reply | None:
        token = inbound.headers.get("validation-token")
        if token is None:
            return None
        if not self._token:
            raise not_configured("the RingCentral verification token")
        if not _TOKEN_SHAPE.match(token):
            raise PayloadError("Validation-Token is not a plain token")
        return Reply(200, HANDSHAKE, b"", "application/json", {"Validation-Token": token})

    def accept(self, inbound: Inbound) -> Mapped:
        if not self._token:
            raise not_configured("the RingCentral verification token")
        given = inbound.headers.get("verification-token")
        if not given:
            raise unauthorized("missing Verification-Token")
        if not signatures.tokens_equal(self._token, given):
            raise forbidden("Verification-Token does not match")
        return map_payload(load_json(inbound.body), inbound.received_at)

    def acknowledge(self, mapped: Mapped) -> Reply:
        return json_reply(
            200,
            outcome_of(mapped),
            {"status": "ok", "published": len(mapped.envelopes), "ignored": mapped.ignored},
        )


def map_payload(payload: Any, received_at: str) -> Mapped:
    if not isinstance(payload, dict):
        raise PayloadError("body is not a JSON object")
    event = payload.get("event")
    if not isinstance(event, str):
        raise PayloadError("event: missing")
    body = obj(payload, "body", "notification")
    if "/message-store/instant" not in event:
        return Mapped(ignored=1)  # change counts, subscription renewal reminders
    message_type = body.get("type")
    if not isinstance(message_type, str):
        raise PayloadError("body.type: missing")
    if message_type != "SMS":
        return Mapped(ignored=1)  # Pager, Fax, VoiceMail
    message_id = ident(body, "id", "body")
    direction_name = body.get("direction")
    direction = _DIRECTIONS.get(direction_name.lower()) if isinstance(direction_name, str) else None
    if direction is None:
        raise PayloadError("body.direction: not Inbound or Outbound")
    sender = obj(body, "from", "body")
    recipients = objects(body, "to", "body")
    recipient = next((r for r in recipients if r.get("target") is True), recipients[0] if recipients else {})
    sender_party = _party(sender, "body.from")
    recipient_party = _party(recipient, "body.to") if recipient else Party()
    customer, business = (
        (sender_party, recipient_party) if direction == "in" else (recipient_party, sender_party)
    )
    if not customer.phone:
        raise PayloadError(f"body.{'from' if direction == 'in' else 'to'}: no phoneNumber")
    owner = opt_ident(payload, "ownerId", "notification") or ""
    conversation = opt_ident(body, "conversationId", "body")
    if conversation is None:
        conversation_obj = body.get("conversation")
        if isinstance(conversation_obj, dict):
            conversation = opt_ident(conversation_obj, "id", "body.conversation")
    envelope = RawEnvelope(
        channel="sms",
        provider="ringcentral",
        kind="message",
        direction=direction,
        provider_message_id=message_id,
        thread_key=thread_key(conversation, owner, customer.phone),
        business_account=owner or (business.phone or ""),
        customer=customer,
        business=business,
        occurred_at=normalize(body.get("creationTime", payload.get("timestamp")), received_at),
        received_at=received_at,
        text=text_or_none(body, "subject") or None,
        attachments=_attachments(body),
        raw=payload,
    )
    return Mapped((envelope,))


def thread_key(conversation: str | None, owner: str, customer_phone: str) -> str:
    """RingCentral's own conversation when it names one, else the subscribing extension
    (`ownerId`) and the customer's number."""
    if conversation:
        return f"ringcentral:conversation:{conversation}"
    return f"ringcentral:{owner}:{customer_phone}"


def _party(address: dict[str, Any], where: str) -> Party:
    phone = opt_ident(address, "phoneNumber", where)
    return Party(id=phone or "", phone=phone, name=text_or_none(address, "name"))


def _attachments(body: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """MMS media; the Text attachment only repeats `subject`."""
    media = []
    for attachment in objects(body, "attachments", "body"):
        if attachment.get("type") == "Text":
            continue
        content_type = text_or_none(attachment, "contentType") or ""
        media.append({"type": content_type.split("/")[0] or "file", "payload": attachment})
    return tuple(media)
