"""Messenger (`object: page`) and Instagram (`object: instagram`) messaging webhooks.

Both products send the same shape: `entry[].messaging[]` (or `standby[]` when another app
holds the thread under the Handover Protocol), each event with `sender`, `recipient`, a
millisecond `timestamp` and one of `message`, `delivery`, `read` or something we do not
ingest. One event becomes one envelope whose `raw` is a self-contained notification holding
only that event, so replaying `raw` gives the same envelope back.

- Echoes (`message.is_echo`) are the business's own sends: sender and recipient swap, the
  customer is the recipient and the direction is "out".
- Deliveries and reads are kind "status", never customer text.
- Instagram unsends (`is_deleted`) are kind "deleted"; tests to self (`is_self`) are ignored.
"""

from __future__ import annotations

from typing import Any

from ingest.providers.base import Mapped, PayloadError, ident, obj, objects, text_or_none
from ingest.providers.meta_common import entries, is_test_entry
from ingest.timeutil import normalize
from schema.envelopes import Channel, Direction, Kind, Party, RawEnvelope

_SOURCES = ("messaging", "standby")


def map_messenger(payload: dict[str, Any], received_at: str) -> Mapped:
    return _map(payload, received_at, "messenger")


def map_instagram(payload: dict[str, Any], received_at: str) -> Mapped:
    return _map(payload, received_at, "instagram")


def _map(payload: dict[str, Any], received_at: str, channel: Channel) -> Mapped:
    result = Mapped()
    for index, entry in enumerate(entries(payload)):
        where = f"entry[{index}]"
        if is_test_entry(entry):
            result += Mapped(test_payload=True)
            continue
        if not any(source in entry for source in _SOURCES):
            result += _changes(entry, where)
            continue
        for source in _SOURCES:
            for position, event in enumerate(objects(entry, source, where)):
                fragment = _fragment(payload, entry, source, event)
                result += _event(
                    event,
                    entry,
                    fragment,
                    where=f"{where}.{source}[{position}]",
                    received_at=received_at,
                    channel=channel,
                )
    return result


def _changes(entry: dict[str, Any], where: str) -> Mapped:
    """`changes[]` on these objects is either the dashboard's messages sample (it looks nothing
    like a real DM) or a subscription we do not ingest, such as comments or mentions."""
    changes = objects(entry, "changes", where)
    if any(change.get("field") == "messages" for change in changes):
        return Mapped(test_payload=True)
    return Mapped(ignored=max(1, len(changes)))


def _fragment(
    payload: dict[str, Any], entry: dict[str, Any], source: str, event: dict[str, Any]
) -> dict[str, Any]:
    kept = {key: entry[key] for key in ("id", "time") if key in entry}
    return {"object": payload["object"], "entry": [{**kept, source: [event]}]}


def _event(
    event: dict[str, Any],
    entry: dict[str, Any],
    raw: dict[str, Any],
    *,
    where: str,
    received_at: str,
    channel: Channel,
) -> Mapped:
    sender = ident(obj(event, "sender", where), "id", f"{where}.sender")
    recipient = ident(obj(event, "recipient", where), "id", f"{where}.recipient")
    occurred_at = normalize(event.get("timestamp", entry.get("time")), received_at)

    def envelope(
        kind: Kind, message_id: str, customer: str, business: str, direction: Direction, **extra: Any
    ) -> Mapped:
        return Mapped(
            (
                RawEnvelope(
                    channel=channel,
                    provider="meta",
                    kind=kind,
                    direction=direction,
                    provider_message_id=message_id,
                    thread_key=thread_key(channel, business, customer),
                    business_account=business,
                    customer=Party(id=customer),
                    business=Party(id=business),
                    occurred_at=occurred_at,
                    received_at=received_at,
                    raw=raw,
                    **extra,
                ),
            )
        )

    message = event.get("message")
    if message is not None:
        if not isinstance(message, dict):
            raise PayloadError(f"{where}.message: not an object")
        mid = ident(message, "mid", f"{where}.message")
        if message.get("is_self") is True:
            return Mapped(ignored=1)
        echo = message.get("is_echo") is True
        customer, business = (recipient, sender) if echo else (sender, recipient)
        direction: Direction = "out" if echo else "in"
        if message.get("is_deleted") is True:
            return envelope("deleted", f"deleted:{mid}", customer, business, direction, refers_to=mid)
        attachments = tuple(objects(message, "attachments", f"{where}.message"))
        return envelope(
            "message",
            mid,
            customer,
            business,
            direction,
            text=text_or_none(message, "text"),
            attachments=attachments,
        )

    for field, status in (("delivery", "delivered"), ("read", "read")):
        receipt = event.get(field)
        if receipt is None:
            continue
        if not isinstance(receipt, dict):
            raise PayloadError(f"{where}.{field}: not an object")
        # Receipts come from the customer about the business's messages.
        receipt_id, about = _receipt_id(receipt, sender, recipient, status, f"{where}.{field}")
        return envelope("status", receipt_id, sender, recipient, "out", status=status, refers_to=about)

    return Mapped(ignored=1)  # reactions, postbacks, referrals, edits, optins...


def thread_key(channel: Channel, business: str, customer: str) -> str:
    """A conversation between a Page (or Instagram account) and a PSID (or IGSID)."""
    return f"{channel}:{business}:{customer}"


def _receipt_id(
    receipt: dict[str, Any], customer: str, business: str, status: str, where: str
) -> tuple[str, str | None]:
    """One idempotent id per receipt: the message id when the receipt names one message,
    else the watermark ("everything before this instant"), scoped to the thread. Second: the
    message the receipt is about, when it names exactly one."""
    mid = receipt.get("mid")
    mids = receipt.get("mids")
    only = mids[0] if isinstance(mids, list) and len(mids) == 1 else None
    about = mid if _usable_mid(mid) else (only if _usable_mid(only) else None)
    if _usable_mid(mid):
        return f"status:{mid}:{status}", about
    watermark = receipt.get("watermark")
    if isinstance(watermark, int | str) and not isinstance(watermark, bool) and 0 < len(str(watermark)) <= 64:
        return f"status:{business}:{customer}:{status}:{watermark}", about
    if isinstance(mids, list) and mids and _usable_mid(mids[0]):
        return f"status:{mids[0]}:{status}", about
    raise PayloadError(f"{where}: no mid, mids or watermark")


def _usable_mid(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 512
