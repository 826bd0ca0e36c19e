"""Small pure helpers the console's templates use: times, highlighted evidence, labels, safe links."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from api.labels import CHANNEL_NAMES, CONFLICT_QUESTIONS, INTENT_NAMES, SHORT_NAMES

CONSOLE = "/console"
# Identity changes the machine makes as messages arrive: on the timeline, but folded away unless
# asked for. Merges, splits, unlinks, verdicts, consent and questions always show.
ROUTINE_CHANGES = frozenset(
    {"customer.created", "phone.linked", "identity.linked", "thread.linked", "thread.backlinked"}
)


def when(stamp: str | None) -> str:
    """ "Nov 19, 2025, 3:05 PM UTC": what a person reads (the page's script shows local time)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    hour = moment.strftime("%I").lstrip("0")
    return f"{moment.strftime('%b')} {moment.day}, {moment.year}, {hour}:{moment.strftime('%M %p')} UTC"


def evidence_text(item: dict[str, Any] | None) -> str | None:
    """The text a span points into: a message's content, or a booking's notes."""
    if not item:
        return None
    return item.get("content") or item.get("notes")


def highlight(text: str | None, span: Any) -> list[tuple[str, bool]]:
    """The text cut around the span as (piece, is_evidence) pairs, so the template marks the
    evidence while escaping every piece; the whole text, unmarked, when the span does not fit."""
    if not text:
        return []
    if not (isinstance(span, list | tuple) and len(span) == 2):
        return [(text, False)]
    start, end = span
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return [(text, False)]
    pieces = [(text[:start], False), (text[start:end], True), (text[end:], False)]
    return [(piece, marked) for piece, marked in pieces if piece]


def sentiment_label(score: float | None) -> tuple[str, str]:
    """(words, css class) for a sentiment score."""
    if score is None:
        return "", ""
    if score >= 0.05:
        return f"positive {score:+.2f}", "positive"
    if score <= -0.05:
        return f"negative {score:+.2f}", "negative"
    return "neutral", "neutral"


def channel_name(channel: str | None, short: bool = False) -> str:
    names = SHORT_NAMES if short else CHANNEL_NAMES
    return names.get(channel or "", channel or "")


def intent_name(tag: str) -> str:
    return INTENT_NAMES.get(tag, tag.replace("_", " "))


def conflict_question(kind: str) -> str:
    return CONFLICT_QUESTIONS.get(kind, kind.replace("_", " "))


def web_link(url: Any) -> str | None:
    """An attachment's URL when it is an http(s) link, else None (never a javascript: link)."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def local_path(target: str | None, default: str = CONSOLE + "/") -> str:
    """A console path to go back to: only paths on this site under /console, so a crafted
    `back` or `next` cannot send an admin elsewhere."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(CONSOLE + "/") or "\\" in target:
        return default
    return target
