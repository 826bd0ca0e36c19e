"""`phoneunify timeline`: the unified timeline in a terminal, in the design document's admin box."""

from __future__ import annotations

import sys
import textwrap
import uuid
from datetime import datetime
from typing import Any, TextIO

from api import queries
from phoneunify.db import make_engine
from phoneunify.settings import Settings
from workers.domain import phones

WIDTH = 72
CHANNEL_NAMES = {
    "sms": "SMS",
    "whatsapp": "WhatsApp",
    "instagram": "Instagram",
    "messenger": "Facebook Messenger",
    "booking": "Booking form",
}


def _line(text: str = "") -> str:
    return "│ " + text.ljust(WIDTH - 4)[: WIDTH - 4] + " │"


def _when(stamp: str) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return str(moment.strftime("%b %d, %I:%M %p").replace(" 0", " "))


def _label(item: dict[str, Any]) -> str:
    channel = CHANNEL_NAMES.get(item.get("channel", ""), item.get("channel", ""))
    if item.get("type") == "booking":
        return "BOOKING CREATED"
    if item.get("type") in ("identity", "consent"):
        return str(item.get("kind", "identity")).upper()
    return f"{channel} {str(item.get('direction', '')).upper()}".strip()


def _body(item: dict[str, Any]) -> list[str]:
    if item.get("type") == "booking":
        parts = []
        if item.get("date"):
            parts.append(f"Date: {item['date']}")
        if item.get("guests") is not None:
            parts.append(f"Guests: {item['guests']}")
        if item.get("total"):
            parts.append(f"Total: {item['total']}")
        return [", ".join(parts)] if parts else []
    content = item.get("content")
    if content is None:
        return ["(media)" if item.get("attachments") else ""]
    if item.get("type") in ("identity", "consent"):
        return textwrap.wrap(content, WIDTH - 6)
    return textwrap.wrap(f'"{content}"', WIDTH - 6) or ['""']


def render(card: dict[str, Any], items: list[dict[str, Any]], out: TextIO) -> None:
    """Print one customer's card and timeline as a box."""
    top, sep, bottom = (
        "┌" + "─" * (WIDTH - 2) + "┐",
        "├" + "─" * (WIDTH - 2) + "┤",
        "└" + "─" * (WIDTH - 2) + "┘",
    )
    name = card.get("name") or "(no name)"
    phone_list = ", ".join(card.get("phones") or []) or "no phone"
    channels = sorted(
        {
            CHANNEL_NAMES.get(i["channel"], i["channel"])
            for i in items
            if i.get("type") not in ("identity", "consent")
        }
    )
    print(top, file=out)
    print(_line(f"Customer: {name} ({phone_list})"), file=out)
    print(sep, file=out)
    print(_line("Channels: " + (", ".join(channels) or "none yet")), file=out)
    opted_out = [c for c in card.get("consent") or [] if c["status"] == "opted_out"]
    if opted_out:
        print(_line("Opted out: " + ", ".join(c["channel"] for c in opted_out)), file=out)
    print(_line(), file=out)
    print(_line("Timeline:"), file=out)
    for item in items:
        print(_line(f"[{_when(item['timestamp'])}] {_label(item)}"), file=out)
        for text in _body(item):
            print(_line("  " + text), file=out)
    print(bottom, file=out)


def show_timeline(
    settings: Settings, phone: str | None, customer: str | None, limit: int = 200, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            if phone is not None:
                try:
                    e164 = phones.canonical(phones.normalize(phone, settings.default_region))
                except phones.PhoneError as exc:
                    print(f"not a phone number: {exc.reason}", file=sys.stderr)
                    return 2
                owner, shared = queries.customer_by_phone(conn, e164)
                if owner is None:
                    print(
                        "shared phone: it links nobody" if shared else "no customer has this phone",
                        file=sys.stderr,
                    )
                    return 1
            else:
                try:
                    owner = queries.survivor_of(conn, uuid.UUID(str(customer)))
                except ValueError:
                    owner = None
                if owner is None:
                    print("no such customer", file=sys.stderr)
                    return 1
            ids = queries.members(conn, owner)
            items, _ = queries.timeline_page(conn, ids, limit, None)
            render(queries.customer_card(conn, owner), items, out)
    finally:
        engine.dispose()
    return 0
