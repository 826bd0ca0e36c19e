"""The business's own sends, reported by its sending system: `POST /outbound/v1/messages`.

Twilio and the WhatsApp Cloud API never send a webhook with the text of what the business
sent (only delivery statuses), so without this those replies would be missing from every
timeline. The business's sending system reports each message right after the provider
accepted it; it becomes a raw envelope with direction "out" on the channel's raw topic, in the
SAME thread as the customer's own messages: the thread key comes from the provider adapter's
own `thread_key`, so an inbound message and a reported reply cannot disagree about it. The
provider's message id is the idempotency key (channel + message id), so a report sent twice,
or a reply the provider also echoes (Messenger, Instagram, RingCentral), is one timeline line,
and the provider's later status callbacks (`refers_to` the same id) attach to it.

Authenticated like the booking form (shared_key.py) with settings.outbound_api_key.

Body (JSON object):
    channel          sms | whatsapp | messenger | instagram
    provider         twilio | meta | ringcentral
    from             the business's side, as the provider's inbound webhooks name it: Twilio the
                     number it sent from (`whatsapp:+1...` on WhatsApp), WhatsApp the
                     phone_number_id, Messenger the Page id, Instagram the account id,
                     RingCentral the number it sent from
    to               the customer, as the provider's inbound webhooks name them: Twilio `+1...`
                     or `whatsapp:+1...`, WhatsApp the wa_id (digits; a leading + is dropped),
                     Messenger the PSID, Instagram the IGSID, RingCentral `+1...`
    message_id       the provider's id of the sent message (MessageSid, wamid, mid, RingCentral id)
    text, attachments  at least one; attachments are objects with a `type` (image, video, ...)
    sent_at          when it was sent (ISO-8601, or epoch seconds or ms); the receive time if absent
    sender           optional: the name shown for the business (an agent, the business's name)
    to_user_id       WhatsApp only, optional: the user's BSUID, which keys their thread when known
    account          RingCentral only: the extension id (the webhooks' `ownerId`)
    conversation_id  RingCentral only, optional: its conversation id, which keys the thread
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest.edge import Reply, json_reply, outcome_of
from ingest.providers import meta_messaging, ringcentral, twilio, whatsapp
from ingest.providers.base import Mapped, PayloadError, ident, opt_ident
from ingest.providers.shared_key import SharedKeyAdapter
from ingest.timeutil import normalize
from schema.envelopes import Channel, Party, Provider, RawEnvelope

PATH = "/outbound/v1/messages"
MAX_TEXT = 8192
MAX_ATTACHMENTS = 10
MAX_SENDER = 200
_FIELDS = frozenset(
    {
        "channel",
        "provider",
        "from",
        "to",
        "message_id",
        "text",
        "attachments",
        "sent_at",
        "sender",
        "to_user_id",
        "account",
        "conversation_id",
    }
)


@dataclass(frozen=True)
class _Thread:
    """Where a reported send belongs, as the provider's inbound mapping would say it."""

    key: str
    account: str
    customer: Party
    business: Party


Locate = Callable[[Channel, dict[str, Any], str | None], _Thread]


class OutboundAdapter(SharedKeyAdapter):
    name = "outbound"
    channel = "sms"
    key_name = "the outbound API key"

    def map(self, payload: Any, received_at: str) -> Mapped:
        return map_report(payload, received_at)

    def acknowledge(self, mapped: Mapped) -> Reply:
        envelope = mapped.envelopes[0]
        return json_reply(
            202, outcome_of(mapped), {"status": "ok", "message_id": envelope.provider_message_id}
        )


def map_report(payload: Any, received_at: str) -> Mapped:
    """One reported send as a raw envelope (direction out); PayloadError says what is wrong."""
    if not isinstance(payload, dict):
        raise PayloadError("body is not a JSON object")
    unknown = sorted(str(name)[:64] for name in payload.keys() - _FIELDS)
    if unknown:
        raise PayloadError(f"unknown field(s): {', '.join(unknown)}")
    provider = payload.get("provider")
    channel = payload.get("channel")
    if not isinstance(provider, str) or provider not in _CHANNELS:
        raise PayloadError(f"provider: one of {', '.join(_CHANNELS)}")
    channels = _CHANNELS[provider]
    if channel not in channels:
        raise PayloadError(f"channel: {provider} reports one of {', '.join(channels)}")
    text = _text(payload)
    attachments = _attachments(payload)
    if text is None and not attachments:
        raise PayloadError("text or attachments: a message needs one")
    thread = _LOCATE[provider](channel, payload, _sender(payload))
    envelope = RawEnvelope(
        channel=channel,
        provider=_PROVIDER[provider],
        kind="message",
        direction="out",
        provider_message_id=ident(payload, "message_id", "message"),
        thread_key=thread.key,
        business_account=thread.account,
        customer=thread.customer,
        business=thread.business,
        occurred_at=normalize(payload.get("sent_at"), received_at),
        received_at=received_at,
        text=text,
        attachments=attachments,
        raw=payload,
    )
    return Mapped((envelope,))


def _twilio(channel: Channel, payload: dict[str, Any], sender: str | None) -> _Thread:
    line, to = ident(payload, "from", "message"), ident(payload, "to", "message")
    for field, address in (("to", to), ("from", line)):
        if twilio.channel_of(address) != channel:
            raise PayloadError(
                f"{field}: a Twilio {channel} address"
                + (" has no prefix" if channel == "sms" else f" starts with {channel}:")
            )
    return _Thread(
        twilio.thread_key(line, to),
        line,
        Party(id=to, phone=to),
        Party(id=line, phone=line, name=sender),
    )


def _meta(channel: Channel, payload: dict[str, Any], sender: str | None) -> _Thread:
    account, to = ident(payload, "from", "message"), ident(payload, "to", "message")
    if channel != "whatsapp":
        return _Thread(
            meta_messaging.thread_key(channel, account, to),
            account,
            Party(id=to),
            Party(id=account, name=sender),
        )
    wa_id = to.removeprefix("+")
    if not wa_id.isdigit():
        raise PayloadError("to: a wa_id is digits (a BSUID goes in to_user_id)")
    user_id = opt_ident(payload, "to_user_id", "message")
    customer = Party(id=user_id or wa_id, phone=wa_id)
    return _Thread(
        whatsapp.thread_key(account, customer.id), account, customer, Party(id=account, name=sender)
    )


def _ringcentral(channel: Channel, payload: dict[str, Any], sender: str | None) -> _Thread:
    number, to = ident(payload, "from", "message"), ident(payload, "to", "message")
    extension = ident(payload, "account", "message")
    conversation = opt_ident(payload, "conversation_id", "message")
    return _Thread(
        ringcentral.thread_key(conversation, extension, to),
        extension,
        Party(id=to, phone=to),
        Party(id=number, phone=number, name=sender),
    )


_CHANNELS: dict[str, tuple[Channel, ...]] = {
    "twilio": ("sms", "whatsapp", "messenger"),
    "meta": ("whatsapp", "messenger", "instagram"),
    "ringcentral": ("sms",),
}
_PROVIDER: dict[str, Provider] = {"twilio": "twilio", "meta": "meta", "ringcentral": "ringcentral"}
_LOCATE: dict[str, Locate] = {"twilio": _twilio, "meta": _meta, "ringcentral": _ringcentral}


def _text(payload: dict[str, Any]) -> str | None:
    value = payload.get("text")
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError("text: not a string")
    if len(value) > MAX_TEXT:
        raise PayloadError(f"text: longer than {MAX_TEXT} characters")
    return value or None


def _sender(payload: dict[str, Any]) -> str | None:
    value = payload.get("sender")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_SENDER:
        raise PayloadError(f"sender: not a name of at most {MAX_SENDER} characters")
    return value.strip() or None


def _attachments(payload: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """`{"type": "image", "url": ...}` as the envelope's `{"type", "payload": {...}}`."""
    value = payload.get("attachments")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PayloadError("attachments: not a list")
    if len(value) > MAX_ATTACHMENTS:
        raise PayloadError(f"attachments: more than {MAX_ATTACHMENTS}")
    out = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise PayloadError(f"attachments[{index}]: not an object")
        kind = item.get("type")
        if not isinstance(kind, str) or not kind.strip() or len(kind) > 64:
            raise PayloadError(f"attachments[{index}].type: missing")
        out.append({"type": kind, "payload": {k: v for k, v in item.items() if k != "type"}})
    return tuple(out)
