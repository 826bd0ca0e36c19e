"""`phoneunify timeline`: the unified timeline in a terminal, as the design document's admin box.

The customer and their numbers, the channels they used, their consent where they opted out,
then one entry per event in the order things happened: time, channel, direction, and the text.
Identity bookkeeping (links, merges) stays in the API; consent changes are shown, because an
operator about to text someone needs to see them.
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from datetime import date, datetime, tzinfo
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api import queries
from api.labels import CHANNEL_NAMES, SHORT_NAMES
from api.phone_input import canonical_phone
from phoneunify.db import make_engine
from phoneunify.settings import Settings
from workers.domain import phones

WIDTH = 72
PAGE = 500


def shown(item: dict[str, Any]) -> bool:
    """Messages, bookings and consent changes; not identity bookkeeping."""
    if item.get("type") == "identity":
        return False
    if item.get("type") == "consent":
        return item.get("kind") == "consent.changed"
    return True


def _row(text: str = "", inner: bool = False) -> str:
    if inner:
        return "│ │ " + text.ljust(WIDTH - 8)[: WIDTH - 8] + " │ │"
    return "│ " + text.ljust(WIDTH - 4)[: WIDTH - 4] + " │"


def _rule(left: str, right: str, inner: bool = False) -> str:
    if inner:
        return "│ " + left + "─" * (WIDTH - 6) + right + " │"
    return left + "─" * (WIDTH - 2) + right


def _when(stamp: str, zone: tzinfo) -> str:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(zone)
    hour = moment.strftime("%I").lstrip("0")
    return f"{moment.strftime('%b')} {moment.day}, {hour}:{moment.strftime('%M %p')}"


def _day(value: object) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.strftime('%b')} {day.day}"


def _label(item: dict[str, Any]) -> str:
    if item.get("type") == "booking":
        return "BOOKING UPDATED" if item.get("event") == "booking_updated" else "BOOKING CREATED"
    if item.get("type") == "consent":
        return f"{SHORT_NAMES.get(item.get('channel', ''), item.get('channel', ''))} CONSENT"
    channel = SHORT_NAMES.get(item.get("channel", ""), item.get("channel", ""))
    return f"{channel} {str(item.get('direction') or '').upper()}".strip()


def _body(item: dict[str, Any]) -> list[str]:
    width = WIDTH - 8
    if item.get("type") == "booking":
        parts = []
        if item.get("date"):
            parts.append(f"Date: {_day(item['date'])}")
        if item.get("guests") is not None:
            parts.append(f"Guests: {item['guests']}")
        if item.get("total"):
            parts.append(f"Total: {item['total']}")
        return textwrap.wrap(", ".join(parts), width) if parts else []
    content = item.get("content")
    if item.get("type") == "consent":
        status = "Opted out" if item.get("status") == "opted_out" else "Opted in"
        why = item.get("keyword") or item.get("source")
        return [status + (f" ({why})" if why else "")]
    if item.get("unsent"):
        return ["(message unsent)"]
    if content is None:
        return ["(media)" if item.get("attachments") else "(no text)"]
    return textwrap.wrap(f'"{content}"', width) or ['""']


def render(
    card: dict[str, Any], items: list[dict[str, Any]], out: TextIO, zone: tzinfo | None = None
) -> None:
    """Print one customer's card and timeline as the design document's admin box."""
    zone = zone or ZoneInfo("UTC")
    items = [i for i in items if shown(i)]
    name = card.get("name") or "(no name)"
    numbers = ", ".join(card.get("phones") or []) or "no phone"
    channels: list[str] = []
    for item in items:
        if item.get("type") not in ("booking", "consent"):
            label = CHANNEL_NAMES.get(item.get("channel", ""), item.get("channel", ""))
            if label not in channels:
                channels.append(label)
    lines = [
        _rule("┌", "┐"),
        _row(f"Customer: {name} ({numbers})"),
        _rule("├", "┤"),
        _row("Channels: " + (", ".join(channels) or "none yet")),
    ]
    for consent in card.get("consent") or []:
        if consent["status"] == "opted_out":
            channel = CHANNEL_NAMES.get(consent["channel"], consent["channel"])
            why = f" ({consent['keyword']})" if consent.get("keyword") else f" ({consent.get('source')})"
            # No number: said by one of their channel identities (a WhatsApp username).
            lines.append(_row(f"Opted out: {channel} {consent['phone'] or 'by username'}{why}"))
    lines += [_row(), _row("Timeline:")]
    if not items:
        lines.append(_row("  nothing yet"))
    else:
        lines.append(_rule("┌", "┐", inner=True))
        for n, item in enumerate(items):
            if n:
                lines.append(_rule("├", "┤", inner=True))
            lines.append(_row(f"[{_when(item['timestamp'], zone)}] {_label(item)}", inner=True))
            lines.extend(_row(text, inner=True) for text in _body(item))
        lines.append(_rule("└", "┘", inner=True))
    lines.append(_rule("└", "┘"))
    print("\n".join(lines), file=out)


def show_timeline(
    settings: Settings,
    phone: str | None,
    customer: str | None,
    limit: int = 200,
    out: TextIO | None = None,
    zone: str = "UTC",
) -> int:
    """Exit status: 0 shown, 1 no such customer, 2 bad input."""
    out = out or sys.stdout
    try:
        where = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"unknown time zone {zone!r}", file=sys.stderr)
        return 2
    owner: uuid.UUID | None
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            if phone is not None:
                try:
                    e164 = canonical_phone(phone, settings.default_region)
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
                    print("not a customer id", file=sys.stderr)
                    return 2
                if owner is None:
                    print("no such customer", file=sys.stderr)
                    return 1
            ids = queries.members(conn, owner)
            items: list[dict[str, Any]] = []
            cursor: queries.Cursor | None = None
            more = True
            while more and len(items) < limit:
                page, cursor = queries.timeline_page(conn, ids, PAGE, cursor)
                items.extend(i for i in page if shown(i))
                more = cursor is not None
            render(queries.customer_card(conn, owner, settings.phone_hash_key), items[:limit], out, where)
            if more or len(items) > limit:
                print(f"(the first {limit} events; --limit shows more)", file=out)
    finally:
        engine.dispose()
    return 0
