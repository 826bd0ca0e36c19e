"""The providers' webhooks, built as each provider builds them and signed with the settings' secrets.

Pure functions: each returns a `Delivery` (the path it is posted to, its exact bytes and its
headers) and sends nothing. The simulator (cli/simulate.py) posts them to a running edge; the
benchmark's traffic (bench/traffic.py) posts them or maps them without HTTP. One builder, so the
demo, the end-to-end tests and the benchmark exercise the edge with the same bodies.
Formats: docs/webhooks.md (and each provider's own webhook documentation, linked there).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest.providers.outbound import PATH as OUTBOUND_PATH
from ingest.signatures import hmac_sha256_hex, twilio_signature
from phoneunify.settings import Settings
from schema.envelopes import utc_iso

# The RingCentral extension the simulated subscription belongs to (its webhooks' ownerId).
RC_EXTENSION = "62264425001"
TWILIO_PATH = "/webhooks/twilio/sms"
# Twilio's account ids are AC plus 32 hex digits; the simulated account is all zeros.
TWILIO_ACCOUNT = "AC" + "0" * 32
WHATSAPP_DISPLAY = "15550783881"

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Delivery:
    """One provider request: where it is posted, its exact bytes and its headers."""

    path: str
    body: bytes
    headers: Headers


# --- Twilio ------------------------------------------------------------------------------------
def twilio_sms(settings: Settings, sid: str, from_: str, to: str, text: str, **extra: str) -> Delivery:
    """An inbound SMS (or WhatsApp over Twilio, with `whatsapp:` addresses); `extra` adds or
    overrides form parameters (NumMedia, MediaUrl0, ...)."""
    params = {
        **_twilio_message(sid, from_, to),
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        **extra,
    }
    return _twilio(settings, params)


def twilio_status(settings: Settings, sid: str, from_: str, to: str, status: str) -> Delivery:
    """A status callback about one of the business's sends (From is the business, no Body)."""
    return _twilio(
        settings, {**_twilio_message(sid, from_, to), "MessageStatus": status, "SmsStatus": status}
    )


def _twilio_message(sid: str, from_: str, to: str) -> dict[str, str]:
    """What every Twilio request about one message carries."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": TWILIO_ACCOUNT,
        "From": from_,
        "To": to,
        "ApiVersion": "2010-04-01",
    }


def _twilio(settings: Settings, params: dict[str, str]) -> Delivery:
    """Form parameters signed as Twilio signs them: the public URL, then the sorted parameters."""
    url = settings.public_base_url.rstrip("/") + TWILIO_PATH
    signature = twilio_signature(settings.twilio_auth_token, url, sorted(params.items()))
    headers = (("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature))
    return Delivery(TWILIO_PATH, urllib.parse.urlencode(params).encode(), headers)


# --- RingCentral -------------------------------------------------------------------------------
def ringcentral_sms(
    settings: Settings,
    message_id: str,
    customer: str,
    business: str,
    text: str,
    at: datetime,
    direction: str = "Inbound",
    conversation_id: str | None = None,
) -> Delivery:
    """A message-store notification about one SMS; `conversation_id` defaults to a stable
    stand-in for the pair of numbers."""
    moment = utc_iso(at)
    inbound = direction == "Inbound"
    body = {
        "uuid": f"rc-{message_id}",
        "event": f"/restapi/v1.0/account/~/extension/{RC_EXTENSION}/message-store/instant?type=SMS",
        "subscriptionId": "sub-demo",
        "ownerId": RC_EXTENSION,
        "timestamp": moment,
        "body": {
            "id": message_id,
            "to": [{"phoneNumber": business if inbound else customer}],
            "from": {"phoneNumber": customer if inbound else business},
            "type": "SMS",
            "creationTime": moment,
            "lastModifiedTime": moment,
            "readStatus": "Unread",
            "direction": direction,
            "availability": "Alive",
            "subject": text,
            "messageStatus": "Received" if inbound else "Sent",
            "conversationId": conversation_id or ringcentral_conversation(customer),
        },
    }
    headers: Headers = (("Content-Type", "application/json"),)
    # RingCentral has no signature: it sends the subscription's token only when one was set.
    if settings.ringcentral_verification_token:
        headers += (("Verification-Token", settings.ringcentral_verification_token),)
    return Delivery("/webhooks/ringcentral/sms", json.dumps(body).encode(), headers)


def ringcentral_conversation(customer: str) -> str:
    """RingCentral keeps one conversation per pair of numbers; a stable stand-in for its id."""
    return str(7876416245344257449 + int("".join(ch for ch in customer if ch.isdigit())))


# --- Meta --------------------------------------------------------------------------------------
def meta_dm(
    settings: Settings,
    product: str,
    account_id: str,
    user_id: str,
    mid: str,
    text: str,
    at: datetime,
    echo: bool = False,
) -> Delivery:
    """A Messenger (product 'messenger') or Instagram ('instagram') direct message; an echo is
    the business's own send (sender and recipient swapped, is_echo set)."""
    ms = int(at.timestamp() * 1000)
    sender, recipient = (account_id, user_id) if echo else (user_id, account_id)
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message["is_echo"] = True
    payload = {
        "object": "page" if product == "messenger" else "instagram",
        "entry": [
            {
                "id": account_id,
                "time": ms,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": recipient},
                        "timestamp": ms,
                        "message": message,
                    }
                ],
            }
        ],
    }
    return _meta(settings, product, payload)


def whatsapp(
    settings: Settings,
    phone_number_id: str,
    wa_id: str,
    wamid: str,
    text: str,
    at: datetime,
    name: str | None = None,
    display_number: str = WHATSAPP_DISPLAY,
) -> Delivery:
    """A WhatsApp Cloud API text message from `wa_id` (digits, no '+', as Meta sends it) to the
    business line `phone_number_id`, whose number is `display_number`."""
    contact: dict[str, Any] = {"profile": {"name": name}} if name else {}
    contact["wa_id"] = wa_id
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_number, "phone_number_id": phone_number_id},
        "contacts": [contact],
        "messages": [
            {
                "from": wa_id,
                "id": wamid,
                "timestamp": str(int(at.timestamp())),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-" + phone_number_id, "changes": [{"value": value, "field": "messages"}]}],
    }
    return _meta(settings, "whatsapp", payload)


def _meta(settings: Settings, product: str, payload: dict[str, Any]) -> Delivery:
    # Meta sends compact JSON with non-ASCII and '/' escaped; the signature covers exactly these bytes.
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()
    secret = settings.instagram_signing_secret if product == "instagram" else settings.meta_app_secret
    headers = (
        ("Content-Type", "application/json"),
        ("X-Hub-Signature-256", "sha256=" + hmac_sha256_hex(secret, raw)),
    )
    return Delivery(f"/webhooks/meta/{product}", raw, headers)


# --- the business's own systems ----------------------------------------------------------------
def booking(settings: Settings, form: dict[str, Any]) -> Delivery:
    """The booking form's submission, authenticated with its API key."""
    headers = (("Content-Type", "application/json"), ("X-Api-Key", settings.booking_api_key))
    return Delivery("/webhooks/booking", json.dumps(form).encode(), headers)


def outbound(settings: Settings, report: dict[str, Any]) -> Delivery:
    """The business's sending system reporting a message it sent (POST /outbound/v1/messages)."""
    headers = (("Content-Type", "application/json"), ("X-Api-Key", settings.outbound_api_key))
    return Delivery(OUTBOUND_PATH, json.dumps(report).encode(), headers)
