"""WhatsApp Cloud API webhooks (`object: whatsapp_business_account`).

Each `entry[].changes[]` with `field: messages` carries `value.metadata.phone_number_id` (the
business line, our routing key), `contacts[]`, and either `messages[]` from customers or
`statuses[]` about the business's sends. Coexistence (the WhatsApp Business app next to the
API) adds `field: smb_message_echoes` for messages typed in the app.

Identity: users who adopted a username may arrive with `from: ""` and `wa_id: ""`, known only
by their business-scoped user id (BSUID, `from_user_id`/`user_id`). The thread is keyed by
the BSUID when present, else wa_id; `Party.phone` is the wa_id exactly as sent (digits, no
"+"), or None when there is none.

Every status is its own idempotent event, `status:<wamid>:<status>`, since sent, delivered
and read of one message are distinct facts.
"""

from __future__ import annotations

from typing import Any

from ingest.providers.base import Mapped, PayloadError, ident, obj, objects, opt_ident, opt_obj, text_or_none
from ingest.providers.meta_common import entries, is_test_entry
from ingest.timeutil import normalize
from schema.envelopes import Direction, Kind, Party, RawEnvelope

_MEDIA = ("image", "video", "audio", "document", "sticker")


def map_payload(payload: dict[str, Any], received_at: str) -> Mapped:
    result = Mapped()
    for index, entry in enumerate(entries(payload)):
        where = f"entry[{index}]"
        if is_test_entry(entry):
            result += Mapped(test_payload=True)
            continue
        for position, change in enumerate(objects(entry, "changes", where)):
            change_where = f"{where}.changes[{position}]"
            field = change.get("field")
            if field not in ("messages", "smb_message_echoes"):
                result += Mapped(ignored=1)  # account, template, history and other updates
                continue
            value = obj(change, "value", change_where)
            line = _Line(
                payload, entry, change, value, where=f"{change_where}.value", received_at=received_at
            )
            result += line.echoes() if field == "smb_message_echoes" else line.messages() + line.statuses()
            if not any(value.get(key) for key in ("messages", "statuses", "message_echoes")):
                result += Mapped(ignored=1)  # e.g. value.errors alone
    return result


class _Line:
    """One `changes[].value`: everything that happened on one business phone number."""

    def __init__(
        self,
        payload: dict[str, Any],
        entry: dict[str, Any],
        change: dict[str, Any],
        value: dict[str, Any],
        *,
        where: str,
        received_at: str,
    ) -> None:
        self.payload, self.entry, self.change, self.value = payload, entry, change, value
        self.where = where
        self.received_at = received_at
        metadata = obj(value, "metadata", where)
        self.line_id = ident(metadata, "phone_number_id", f"{where}.metadata")
        self.display = opt_ident(metadata, "display_phone_number", f"{where}.metadata")
        self.contacts = objects(value, "contacts", where)

    def messages(self) -> Mapped:
        result = Mapped()
        for index, message in enumerate(objects(self.value, "messages", self.where)):
            where = f"{self.where}.messages[{index}]"
            wamid = ident(message, "id", where)
            wa_id = opt_ident(message, "from", where)
            user_id = opt_ident(message, "from_user_id", where)
            contact = self._contact(wa_id, user_id)
            customer = self._party(contact, wa_id, user_id, where)
            kind, text, attachments = _content(message)
            raw = self._fragment("messages", message, contact)
            result += self._envelope(
                kind, wamid, "in", customer, item=message, raw=raw, text=text, attachments=attachments
            )
        return result

    def statuses(self) -> Mapped:
        result = Mapped()
        for index, status in enumerate(objects(self.value, "statuses", self.where)):
            where = f"{self.where}.statuses[{index}]"
            wamid = ident(status, "id", where)
            state = ident(status, "status", where)
            wa_id = opt_ident(status, "recipient_id", where)
            user_id = opt_ident(status, "recipient_user_id", where)
            contact = self._contact(wa_id, user_id)
            customer = self._party(contact, wa_id, user_id, where)
            raw = self._fragment("statuses", status, contact)
            result += self._envelope(
                "status",
                f"status:{wamid}:{state}",
                "out",
                customer,
                item=status,
                raw=raw,
                status=state,
                refers_to=wamid,
            )
        return result

    def echoes(self) -> Mapped:
        """Messages the business typed in the WhatsApp Business app: `from` is the business,
        `to`/`to_user_id` the customer."""
        result = Mapped()
        for index, echo in enumerate(objects(self.value, "message_echoes", self.where)):
            where = f"{self.where}.message_echoes[{index}]"
            wamid = ident(echo, "id", where)
            wa_id = opt_ident(echo, "to", where)
            user_id = opt_ident(echo, "to_user_id", where)
            contact = self._contact(wa_id, user_id)
            customer = self._party(contact, wa_id, user_id, where)
            kind, text, attachments = _content(echo)
            raw = self._fragment("message_echoes", echo, contact)
            result += self._envelope(
                kind, wamid, "out", customer, item=echo, raw=raw, text=text, attachments=attachments
            )
        return result

    def _contact(self, wa_id: str | None, user_id: str | None) -> dict[str, Any]:
        for contact in self.contacts:
            if (user_id and contact.get("user_id") == user_id) or (wa_id and contact.get("wa_id") == wa_id):
                return contact
        return self.contacts[0] if len(self.contacts) == 1 else {}

    def _party(self, contact: dict[str, Any], wa_id: str | None, user_id: str | None, where: str) -> Party:
        wa_id = wa_id or opt_ident(contact, "wa_id", f"{where}.contact")
        user_id = user_id or opt_ident(contact, "user_id", f"{where}.contact")
        customer_id = user_id or wa_id
        if customer_id is None:
            raise PayloadError(f"{where}: no wa_id and no user id")
        profile = opt_obj(contact, "profile", f"{where}.contact")
        return Party(
            id=customer_id,
            phone=wa_id,
            name=text_or_none(profile, "name"),
            handle=text_or_none(profile, "username"),
        )

    def _fragment(self, key: str, item: dict[str, Any], contact: dict[str, Any]) -> dict[str, Any]:
        """A notification holding only this item (and its contact), replayable on its own."""
        value = {
            k: v
            for k, v in self.value.items()
            if k not in ("contacts", "messages", "statuses", "message_echoes")
        }
        value[key] = [item]
        if contact:
            value["contacts"] = [contact]
        entry = {"id": self.entry.get("id"), "changes": [{"field": self.change.get("field"), "value": value}]}
        return {"object": self.payload["object"], "entry": [entry]}

    def _envelope(
        self,
        kind: Kind,
        message_id: str,
        direction: Direction,
        customer: Party,
        *,
        item: dict[str, Any],
        raw: dict[str, Any],
        **extra: Any,
    ) -> Mapped:
        envelope = RawEnvelope(
            channel="whatsapp",
            provider="meta",
            kind=kind,
            direction=direction,
            provider_message_id=message_id,
            thread_key=thread_key(self.line_id, customer.id),
            business_account=self.line_id,
            customer=customer,
            business=Party(id=self.line_id, phone=self.display),
            occurred_at=normalize(item.get("timestamp"), self.received_at),
            received_at=self.received_at,
            raw=raw,
            **extra,
        )
        return Mapped((envelope,))


def thread_key(line_id: str, customer_id: str) -> str:
    """A conversation on one business number (`phone_number_id`) with one user: their BSUID
    when they have one, else their wa_id (see `_Line._party`)."""
    return f"whatsapp:{line_id}:{customer_id}"


def _content(message: dict[str, Any]) -> tuple[Kind, str | None, tuple[dict[str, Any], ...]]:
    """Kind, text and attachments of a WhatsApp message of any type. Attachments keep the
    type's own object as `payload`, the shape Messenger uses."""
    kind_name = message.get("type")
    if not isinstance(kind_name, str) or not kind_name:
        kind_name = "unknown"
    detail = message.get(kind_name)
    payload = detail if isinstance(detail, dict) else {}
    if kind_name == "text":
        return "message", text_or_none(payload, "body"), ()
    if kind_name == "system":
        return "system", text_or_none(payload, "body"), ()
    if kind_name in _MEDIA:
        return "message", text_or_none(payload, "caption"), ({"type": kind_name, "payload": payload},)
    if kind_name == "interactive":
        reply = payload.get("button_reply") or payload.get("list_reply") or {}
        text = text_or_none(reply, "title") if isinstance(reply, dict) else None
        return "message", text, ({"type": kind_name, "payload": payload},)
    if kind_name == "button":
        return "message", text_or_none(payload, "text"), ({"type": kind_name, "payload": payload},)
    attachment: dict[str, Any] = {"type": kind_name}
    if detail is not None:
        attachment["payload"] = detail
    return "message", None, (attachment,)
