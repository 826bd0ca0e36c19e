"""Consent keywords: what a customer texts to opt out of, or back into, messages.

The opt-out list is the 2024 FCC revocation list plus the carriers' classics; the opt-in list
is what carriers honour to undo an opt-out. A keyword counts only as the whole message
(punctuation and case aside): "stop by tomorrow?" is a visit, not a revocation.
"""

from __future__ import annotations

import re

from workers.domain.model import ConsentSignal

OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT", "STOP ALL"}
)
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
# Channels where keywords are the opt-out mechanism (carrier SMS and WhatsApp).
KEYWORD_CHANNELS = frozenset({"sms", "whatsapp"})

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def keyword_signal(text: str | None, channel: str, direction: str) -> ConsentSignal | None:
    """The consent change an inbound message asks for, if it is exactly a keyword."""
    if not text or direction != "in" or channel not in KEYWORD_CHANNELS or len(text) > 40:
        return None
    word = _NOISE.sub(" ", text).strip().upper()
    if word in OPT_OUT:
        return ConsentSignal(status="opted_out", source="keyword", keyword=word)
    if word in OPT_IN:
        return ConsentSignal(status="opted_in", source="keyword", keyword=word)
    return None
