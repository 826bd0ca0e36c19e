"""Phone numbers stand in for people: keep them out of logs, metric labels and Kafka keys.

A keyed HMAC of the canonical E.164 is the stable pseudonym used wherever a number would
otherwise leak (partition keys, log lines, join keys); `mask` is for the rare human-facing
message that needs a hint of which number it was. `redact` is the one masker of free text (log
lines, startup dumps, dead-letter previews): phone-like digit runs and the passwords of URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

_DIGITS = re.compile(r"\d")
# A + followed by 7-15 digits, or a run of 10+ digits with common separators.
_PHONE_LIKE = re.compile(r"\+\d[\d\s().-]{6,18}\d|\b\d[\d\s().-]{8,16}\d\b")
# scheme://user:password@ (a password cannot hold / or @ unescaped, so the match stops there).
_URL_PASSWORD = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@/\s]+@")


def _keyed(prefix: str, text: str, key: str) -> str:
    mac = _keyed_hmac(key).copy()
    mac.update(text.encode())
    return prefix + mac.hexdigest()[:32]


@lru_cache(maxsize=8)
def _keyed_hmac(key: str) -> hmac.HMAC:
    """The HMAC keyed with `key`, before any text: deriving the key's pads is a quarter of the
    cost of a short value's HMAC, and the resolver takes about three per message (the edge one
    per webhook), always under the one configured key. Each value's HMAC is a copy of it."""
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def phone_key(e164: str, key: str) -> str:
    """Keyed pseudonym of a phone number: the same number always gives the same key."""
    return _keyed("ph_", e164, key)


def mask(value: str) -> str:
    """Show at most the last two digits: '+19165551234' -> '+*********34'."""
    digits = [m.start() for m in _DIGITS.finditer(value)]
    keep = set(digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(value))


def _mask_match(match: re.Match[str]) -> str:
    return re.sub(r"\d(?=(?:\D*\d){2})", "*", match.group(0))


def redact(text: str) -> str:
    """`text` with every phone-like run masked to its last two digits and every URL password
    replaced by ***: what any log line or human-facing dump may show."""
    return _URL_PASSWORD.sub(r"\1:***@", _PHONE_LIKE.sub(_mask_match, text))


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose (signing API cursors, say) derived from a secret phoneunify already
    holds, so a new use needs no new secret, and no two uses share a key."""
    return hmac.new(secret.encode(), b"phoneunify key for " + purpose.encode(), hashlib.sha256).digest()


def thread_key_hash(thread_key: str, key: str) -> str:
    """Kafka key for a raw thread. Keyed, because SMS thread keys are made of phone numbers
    and an unkeyed hash of a 10-digit number is reversed by brute force in seconds."""
    return _keyed("th_", thread_key, key)


def identity_key(channel: str, account: str, user_id: str, key: str) -> str:
    """Keyed pseudonym of a channel identity (its channel, the business account and the
    provider's user id, which for SMS and WhatsApp is a phone number): what an erasure keeps of
    it, so its opt-out and its erasure outlive its data."""
    return _keyed("id_", "\x1f".join((channel, account, user_id)), key)
