"""Provider timestamps, normalized to the one format on our topics (ISO-8601 UTC, ms, Z).

Providers disagree: Meta Messenger/Instagram send epoch milliseconds as numbers, WhatsApp and
the Instagram dashboard test send epoch seconds as strings, RingCentral sends ISO-8601 (with
`Z` or `+0000`), Twilio sends nothing. A value we cannot read is not a reason to refuse a
message the provider will otherwise retry for days, so every unreadable or absent value falls
back to the time we received the request.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from schema.envelopes import utc_iso

# Epoch values at or above this are milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
_MS_THRESHOLD = 100_000_000_000
_NUMERIC = re.compile(r"^[+-]?\d{1,20}(\.\d{1,9})?$")
_COLONLESS_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_MIN_EPOCH_S = 0.0
_MAX_EPOCH_S = 253_402_300_799.0  # 9999-12-31T23:59:59Z


def now_iso() -> str:
    return utc_iso(datetime.now(UTC))


def normalize(value: object, fallback: str) -> str:
    """`value` (epoch s or ms as number or string, or ISO-8601) as ISO UTC, else `fallback`."""
    moment = parse(value)
    return utc_iso(moment) if moment is not None else fallback


def parse(value: object) -> datetime | None:
    """The instant a provider timestamp names, or None when it names none we can trust."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 64:
        return None
    if _NUMERIC.match(text):
        return _from_epoch(float(text))
    return _from_iso(text)


def _from_epoch(number: float) -> datetime | None:
    if not math.isfinite(number):
        return None
    seconds = number / 1000.0 if abs(number) >= _MS_THRESHOLD else number
    if not _MIN_EPOCH_S <= seconds <= _MAX_EPOCH_S:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _from_iso(text: str) -> datetime | None:
    text = text.replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _COLONLESS_OFFSET.sub(r"\1:\2", text)  # RingCentral's older "+0000"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
