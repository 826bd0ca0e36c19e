"""Twilio Programmable Messaging: inbound SMS/MMS/WhatsApp webhooks and status callbacks.

The body is application/x-www-form-urlencoded. X-Twilio-Signature covers the public URL
(settings.public_base_url + path + query, since a proxy in front of us changes what we see)
followed by the sorted decoded parameters. Twilio sends no timestamp, so occurred_at is the
receive time. Outbound messages are only visible as status callbacks (MessageStatus, no
Body), which become kind=status events about the message, never customer text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from ingest import signatures
from ingest.edge import Inbound, Reply, forbidden, not_configured, outcome_of, unauthorized
from ingest.providers.base import Mapped, PayloadError, load_json
from schema.envelopes import Channel, Party, RawEnvelope

TWIML_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_FIELDS = 500
MAX_MEDIA = 10  # Twilio's own limit per message
_ADDRESS_CHANNELS: tuple[tuple[str, Channel], ...] = (("whatsapp:", "whatsapp"), ("messenger:", "messenger"))
_OPT_OUT = {"STOP": "opt_out", "START": "opt_in"}

Params = Sequence[tuple[str, str]]


class TwilioAdapter:
    name = "twilio"
    channel = "sms"

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        self._token = auth_token
        self._base = public_base_url.rstrip("/")

    def handshake(self, inbound: Inbound) -> Reply | None:
        return None

    def public_url(self, inbound: Inbound) -> str:
        return self._base + inbound.path + (f"?{inbound.query}" if inbound.query else "")

    def accept(self, inbound: Inbound) -> Mapped:
        if not self._token:
            raise not_configured("the Twilio auth token")
        header = inbound.headers.get("x-twilio-signature")
        if not header:
            raise unauthorized("missing X-Twilio-Signature")
        url = self.public_url(inbound)
        if "bodySHA256" in inbound.query_params():
            if not signatures.twilio_json_signature_valid(self._token, url, inbound.body, header):
                raise forbidden("X-Twilio-Signature does not match")
            params = json_params(inbound.body)
        else:
            params = parse_form(inbound.body)
            if not signatures.twilio_signature_valid(self._token, url, params, header):
                raise forbidden("X-Twilio-Signature does not match")
        return map_params(params, inbound.received_at)

    def acknowledge(self, mapped: Mapped) -> Reply:
        # Empty TwiML: "received, no reply"; anything else makes Twilio log a content warning.
        return Reply(200, outcome_of(mapped), TWIML_EMPTY, "text/xml")


def parse_form(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("form body is not UTF-8") from exc
    try:
        return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise PayloadError(f"more than {MAX_FIELDS} form fields") from exc


def json_params(body: bytes) -> list[tuple[str, str]]:
    """A JSON body of flat string parameters (Twilio's bodySHA256 flavour)."""
    data = load_json(body)
    if not isinstance(data, dict):
        raise PayloadError("JSON body is not an object")
    pairs: list[tuple[str, str]] = []
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PayloadError(f"parameter {name[:64]!r}: not a scalar")
        pairs.append((name, str(value)))
    return pairs


def map_stored(payload: Any, received_at: str) -> Mapped:
    """A stored Twilio request for replay: its form body as a string, or a parameter object
    (repeated names as lists), as kept in RawEnvelope.raw."""
    if isinstance(payload, str):
        return map_params(parse_form(payload.encode("utf-8")), received_at)
    if not isinstance(payload, dict):
        raise PayloadError("twilio payload must be a form string or an object")
    pairs: list[tuple[str, str]] = []
    for name, value in payload.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str):
                raise PayloadError(f"parameter {name[:64]!r}: not a string")
            pairs.append((name, item))
    return map_params(pairs, received_at)


def map_params(params: Params, received_at: str) -> Mapped:
    form = _first_values(params)
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
    if not sid:
        raise PayloadError("MessageSid: missing")
    sender, recipient = form.get("From", ""), form.get("To", "")
    if not sender:
        raise PayloadError("From: missing")
    status = form.get("MessageStatus")
    is_status = status is not None and "Body" not in form and status.lower() != "received"
    # The customer is From on inbound messages and To on callbacks about our own sends.
    customer_address, business_address = (recipient, sender) if is_status else (sender, recipient)
    if not customer_address:
        raise PayloadError("To: missing")
    business_line = business_address or form.get("MessagingServiceSid", "")
    if not business_line:
        raise PayloadError("To: missing")
    channel = channel_of(customer_address)
    common: dict[str, Any] = {
        "channel": channel,
        "provider": "twilio",
        "thread_key": thread_key(business_line, customer_address),
        "business_account": business_line,
        "customer": Party(
            id=customer_address,
            phone=customer_address,
            name=None if is_status else (form.get("ProfileName") or None),
        ),
        "business": Party(id=business_address, phone=business_address or None),
        "occurred_at": received_at,
        "received_at": received_at,
        "raw": _raw(params),
    }
    if is_status:
        assert status is not None
        envelope = RawEnvelope(
            kind="status",
            direction="out",
            provider_message_id=f"status:{sid}:{status}",
            status=status,
            refers_to=sid,
            **common,
        )
        return Mapped((envelope,))
    envelopes = [
        RawEnvelope(
            kind="message",
            direction="in",
            provider_message_id=sid,
            text=form.get("Body") or None,
            attachments=_media(form),
            **common,
        )
    ]
    consent = _OPT_OUT.get(form.get("OptOutType", "").upper())
    if consent:
        envelopes.append(
            RawEnvelope(
                kind="consent", direction="in", provider_message_id=f"consent:{sid}", status=consent, **common
            )
        )
    return Mapped(tuple(envelopes))


def _first_values(params: Params) -> dict[str, str]:
    form: dict[str, str] = {}
    for name, value in params:
        form.setdefault(name, value)
    return form


def _raw(params: Params) -> dict[str, Any]:
    """Parameters as an object; a repeated name keeps all its values as a list."""
    raw: dict[str, Any] = {}
    for name, value in params:
        if name not in raw:
            raw[name] = value
        elif isinstance(raw[name], list):
            raw[name].append(value)
        else:
            raw[name] = [raw[name], value]
    return raw


def thread_key(business_line: str, customer_address: str) -> str:
    """A conversation between one of the business's lines (its number, as Twilio writes `To` on
    inbound messages) and a customer's address (`+1...`, `whatsapp:+1...`), whichever way it goes."""
    return f"twilio:{business_line}:{customer_address}"


def channel_of(address: str) -> Channel:
    """The channel of a Twilio address: `whatsapp:` and `messenger:` prefixes, else SMS."""
    lowered = address.lower()
    for prefix, channel in _ADDRESS_CHANNELS:
        if lowered.startswith(prefix):
            return channel
    return "sms"


def _media(form: Mapping[str, str]) -> tuple[dict[str, Any], ...]:
    media = []
    for index in range(MAX_MEDIA):
        url = form.get(f"MediaUrl{index}")
        if url:
            content_type = form.get(f"MediaContentType{index}", "")
            media.append(
                {
                    "type": content_type.split("/")[0] or "file",
                    "payload": {"url": url, "content_type": content_type},
                }
            )
    return tuple(media)
