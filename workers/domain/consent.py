"""Consent keywords: what a customer texts to opt out of, or back into, messages.

The opt-out list is the 2024 FCC revocation list plus the carriers' classics; the opt-in list
is what carriers honour to undo an opt-out. A keyword counts only as the whole message
(punctuation and case aside): "stop by tomorrow?" is a visit, not a revocation.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


# --- the current status and what it allows ------------------------------------------------------
PURPOSES = ("marketing", "transactional")


def current(rows: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The row that decides: the latest by the time the customer (or admin) said it, so the
    answer does not depend on delivery or replay order; at the same instant an opt-out wins;
    then the later row. None when there is no row (status unknown)."""
    return max(rows, key=lambda r: (r["at"], r["status"] == "opted_out", r["seq"]), default=None)


def per_channel(
    own: Iterable[Mapping[str, Any]], said_by_identities: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, Mapping[str, Any]]:
    """A phone's current consent on each channel, channels in order: the rows it has there and
    those its person's channel identities said there with no number (`said_by_identities`, by
    channel): an opt-out said on a channel applies to every number of the person on it. The
    consent API's card and an erasure's suppressions both read consent this way."""
    by_channel: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in own:
        by_channel[row["channel"]].append(row)
    decided: dict[str, Mapping[str, Any]] = {}
    for channel in sorted(by_channel.keys() | said_by_identities.keys()):
        chosen = current([*by_channel.get(channel, ()), *said_by_identities.get(channel, ())])
        if chosen is not None:
            decided[channel] = chosen
    return decided


@dataclass(frozen=True)
class Permission:
    may_send: bool
    rule: str  # which rule decided (docs/api.md, Consent, lists them)


def permission(status: str | None, purpose: str, number_given: bool) -> Permission:
    """May the business text this number, for this purpose? TCPA: an opt-out stops every
    message; marketing needs an opt-in on record (prior express written consent: unknown is
    not yes); an informational (transactional) message needs only the customer's prior express
    consent, which they gave by contacting the business from the number or handing it over
    (`number_given`: the number belongs to a customer)."""
    if status == "opted_out":
        return Permission(False, "opted_out")
    if status == "opted_in":
        return Permission(True, "opted_in")
    if purpose == "marketing":
        return Permission(False, "marketing_needs_opt_in")
    if number_given:
        return Permission(True, "transactional_number_given_by_customer")
    return Permission(False, "transactional_unknown_number")
