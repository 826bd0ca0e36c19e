"""When a new normalizer reads a stored address as another number: what becomes of the numbers. Pure.

New messages already use the new normalizer, so after an upgrade a customer's next message from
an address whose number changed would land on the NEW number: unowned, it would found a new
customer; owned by someone else, it would link the message to them. Re-normalizing brings the
stored data there first, and it never decides silently what a person should:

- the new number takes over what the old one had: its owner (the customer row holding it), or
  its shared mark; a person's shared / not-shared mark on the old number is carried to the new
  one when the new one has none (people decide last, and it is the same line);
- when that would join two customers (the new number belongs to someone else), clash with a
  mark (one number shared, the other owned, or a person's marks disagree), or go against a
  person who took either number from a customer, nothing changes hands: the question goes to
  review, where a person merges, marks, gives or dismisses it;
- consent is carried whatever the outcome (the resolver copies the old number's signals), so
  an opt-out is never lost to a new spelling.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Mark = Literal["shared", "not_shared"]


def as_mark(kind: str | None) -> Mark | None:
    """A stored constraint kind as a person's mark (None for anything else)."""
    return "shared" if kind == "shared" else "not_shared" if kind == "not_shared" else None


@dataclass(frozen=True)
class Number:
    """One side of the move: the number's effective owner and the customer row holding it,
    whether it is shared, the latest shared / not-shared mark a person set on it, and the
    (effective) customer a person took it from."""

    owner: uuid.UUID | None = None
    holder: uuid.UUID | None = None
    shared: bool = False
    mark: Mark | None = None
    released_from: uuid.UUID | None = None


@dataclass(frozen=True)
class Claim:
    """Give the new number to the customer row that held the old one."""

    holder: uuid.UUID


@dataclass(frozen=True)
class Share:
    """Mark the new number shared, as the old one was."""


@dataclass(frozen=True)
class Review:
    """Ask a person; nothing changes hands."""

    kind: str
    customer_id: uuid.UUID | None
    other_customer_id: uuid.UUID | None


@dataclass(frozen=True)
class Keep:
    """Nothing changes hands (the reason is for the ledger and the dry run)."""

    reason: str


Decision = Claim | Share | Review | Keep


@dataclass(frozen=True)
class Move:
    decision: Decision
    carry_mark: Mark | None = None  # a person's mark to copy to the new number


def decide_move(old: Number, new: Number) -> Move:
    """What the old number's standing becomes on the new one (see the module docstring)."""
    if old.mark and new.mark and old.mark != new.mark:
        return Move(Review("renormalized_phone_marks", old.owner, new.owner))
    carry = old.mark if new.mark is None else None
    if old.shared:
        if new.owner is not None:
            return Move(Review("renormalized_phone_shared", None, new.owner))
        return Move(Keep("already_shared") if new.shared else Share(), carry)
    if old.owner is None or old.holder is None:
        if old.released_from is not None and new.owner is None and new.released_from != old.released_from:
            # A person took the line from a customer: the new spelling must not go back to them.
            return Move(Review("renormalized_phone_released", old.released_from, None))
        return Move(Keep("no_owner"), carry)
    if new.shared:
        return Move(Review("renormalized_phone_shared", old.owner, None))
    if new.owner is None:
        if new.released_from == old.owner:
            return Move(Review("renormalized_phone_released", old.owner, None))
        return Move(Claim(old.holder), carry)
    if new.owner == old.owner:
        return Move(Keep("same_customer"), carry)
    return Move(Review("renormalized_phone_owner", old.owner, new.owner))
