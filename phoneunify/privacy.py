"""Phone numbers stand in for people: keep them out of logs, metric labels and Kafka keys.

A keyed HMAC of the canonical E.164 is the stable pseudonym used wherever a number would
otherwise leak (partition keys, log lines, join keys); `mask` is for the rare human-facing
message that needs a hint of which number it was.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_DIGITS = re.compile(r"\d")


def phone_key(e164: str, key: str) -> str:
    """Keyed pseudonym of a phone number: the same number always gives the same key."""
    digest = hmac.new(key.encode(), e164.encode(), hashlib.sha256).hexdigest()
    return "ph_" + digest[:32]


def mask(value: str) -> str:
    """Show at most the last two digits: '+19165551234' -> '+*********34'."""
    digits = [m.start() for m in _DIGITS.finditer(value)]
    keep = set(digits[-2:])
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(value))


def thread_key_hash(thread_key: str, key: str) -> str:
    """Kafka key for a raw thread. Keyed, because SMS thread keys are made of phone numbers
    and an unkeyed hash of a 10-digit number is reversed by brute force in seconds."""
    digest = hmac.new(key.encode(), thread_key.encode(), hashlib.sha256).hexdigest()
    return "th_" + digest[:32]
