"""Which of a customer's email addresses is the one to keep. Pure.

People change addresses: the newest one they gave is the one to write to, so the newest
observation wins, but only among sources of the same strength: an address a person typed into
the business's booking form beats one a channel's profile offered, however recent. "Newest"
is the observation's own time (the message's), never when it arrived, and a tie is broken by
the address itself, so the kept address is the maximum of one total order over every
observation: any replay order keeps the same one. The ledger records each time two different
addresses met (the resolver writes it), so the one not kept is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Weakest first. A channel's profile (a custom adapter's customer.email) is the provider's word;
# the booking form is what the person typed for this business; an admin's word is final.
EMAIL_SOURCES = ("channel", "booking_form", "admin")


def strength(source: str | None) -> int:
    """Rank of a source (unknown sources rank with the weakest)."""
    return EMAIL_SOURCES.index(source) if source in EMAIL_SOURCES else 0


@dataclass(frozen=True)
class EmailSeen:
    """One observation of an address: what, from which source, when it was given."""

    email: str
    source: str
    at: datetime

    def order(self) -> tuple[int, datetime, str]:
        return strength(self.source), self.at, self.email


def better_email(seen: EmailSeen, current: EmailSeen | None) -> bool:
    """Should `seen` replace the kept `current` (stronger source, else newer, else the larger
    address, so the choice is the same whatever order they come in)?"""
    return current is None or seen.order() > current.order()


@dataclass(frozen=True)
class EmailMet:
    """Two different addresses met for one customer: which was kept. For the ledger."""

    seen: EmailSeen
    previous: EmailSeen
    replaced: bool

    @property
    def kept(self) -> EmailSeen:
        return self.seen if self.replaced else self.previous
