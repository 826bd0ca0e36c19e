"""Who is this? The pure decision at the heart of resolution.

Given one piece of phone evidence for a channel identity, and what we already know about that
identity and that phone, decide: link, create, add a phone, merge, or leave it for a person to
review. No I/O: the resolver service loads the state, calls `decide`, and applies the result.

Rules, in order (each is a test in tests/unit/test_identity_decide.py):
1. Evidence that does not identify the sender (someone else's number, the business's own) decides nothing.
2. A shared phone links nobody automatically; an unlinked identity claiming it goes to review.
3. A person's decision about an identity stands: automation may add an unowned phone to the
   customer a person linked, but never moves, merges or re-links it; and a phone a person
   removed from a customer never goes back to that customer automatically.
4. Below the link threshold nothing links: a claim on an owned phone goes to review.
5. An unlinked identity joins the phone's owner, unless a person said never, or the names
   clash (a family phone, a front desk: a shared-phone candidate for review); an unowned
   phone makes a new customer. Provider-attested evidence skips the name check.
   When the names claiming one phone make `policy.shared_phone_min_identities` distinct people
   (`distinct_people`), the rule marks the phone shared, unless a person said it is not.
6. A linked identity gains an unowned phone; a phone owned by another customer merges the two
   only at or above the merge threshold, never against a person's "never link" and never
   when the two customers' names clash (two people on one phone is not one person);
   otherwise it is a conflict for review. The survivor is the older customer, named explicitly.

Customer ids in a decision are effective ones (merge pointers followed); the resolver applies
links and phones to the rows that hold them, so a split can restore each side exactly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from workers.domain.accents import without_accents
from workers.domain.model import PhoneEvidence

POLICY_VERSION = "2026.11.1"


@dataclass(frozen=True)
class Policy:
    link_threshold: float = 0.6
    merge_threshold: float = 0.9
    version: str = POLICY_VERSION
    # Distinct people (by name) claiming one phone before the rule marks it shared.
    shared_phone_min_identities: int = 3


@dataclass(frozen=True)
class CustomerState:
    id: uuid.UUID
    created_at: datetime
    name: str | None = None


@dataclass(frozen=True)
class PhoneState:
    """What we know about a number. `owner` is the effective customer (merge pointers followed);
    `claimants` are the names of the people who claimed it before (its owner and the identities
    linked to it or waiting for review on it); `not_shared` is a person's "this phone is not shared";
    `holder` is the customer row the phone belongs to (the owner before merge pointers);
    `released_from` the (effective) customer a person took it from, which it never rejoins."""

    e164: str
    owner: CustomerState | None = None
    shared: bool = False
    claimants: tuple[str, ...] = ()
    not_shared: bool = False
    holder: uuid.UUID | None = None
    released_from: uuid.UUID | None = None


@dataclass(frozen=True)
class IdentityState:
    id: uuid.UUID
    customer: CustomerState | None = None
    decided_by: str | None = None
    verification: str = "unverified"
    name: str | None = None


@dataclass(frozen=True)
class ThreadState:
    """A conversation: whose identity it is, the customer it is linked to (and whether a person
    decided that), and the range of its messages."""

    id: uuid.UUID
    customer_id: uuid.UUID | None
    identity_id: uuid.UUID | None
    decided_by: str | None
    first_message_at: datetime | None
    message_count: int
    last_message_at: datetime | None = None


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoChange:
    reason: str


@dataclass(frozen=True)
class CreateCustomer:
    rule: str


@dataclass(frozen=True)
class LinkIdentity:
    customer_id: uuid.UUID
    rule: str


@dataclass(frozen=True)
class AddPhone:
    customer_id: uuid.UUID
    rule: str


@dataclass(frozen=True)
class Merge:
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    rule: str


@dataclass(frozen=True)
class Review:
    kind: str
    customer_id: uuid.UUID | None = None
    other_customer_id: uuid.UUID | None = None


@dataclass(frozen=True)
class MarkShared:
    """The phone is claimed by too many distinct people: it links nobody from now on."""

    previous_owner_id: uuid.UUID | None
    people: int
    rule: str = "shared_phone_by_rule"


Decision = NoChange | CreateCustomer | LinkIdentity | AddPhone | Merge | Review | MarkShared


def decide(
    evidence: PhoneEvidence,
    identity: IdentityState,
    phone: PhoneState,
    policy: Policy,
    never_link: frozenset[uuid.UUID] = frozenset(),
) -> Decision:
    """One decision for one piece of evidence. `never_link` holds the customers a person said
    this identity (or its customer) must never be linked or merged with."""
    if not evidence.identifies_sender:
        return NoChange("not_the_senders_number")
    if phone.shared:
        return NoChange("shared_phone") if identity.customer else Review("shared_phone")
    owner = phone.owner
    linked = identity.customer
    strong_enough = evidence.confidence >= policy.link_threshold

    if identity.decided_by is not None:
        if linked is not None and owner is None and strong_enough and phone.released_from != linked.id:
            return AddPhone(linked.id, "phone_for_admin_linked_identity")
        if linked is not None and owner is not None and owner.id != linked.id:
            return Review("identity_phone_conflict", linked.id, owner.id)
        return NoChange("decided_by_a_person")

    if linked is None:
        if not strong_enough:
            return Review("low_confidence_link", owner.id if owner else None)
        if owner is None:
            return CreateCustomer(_rule(evidence, "new_customer"))
        if owner.id in never_link:
            return NoChange("never_link")
        if evidence.source != "attested" and not names_compatible(identity.name, owner.name):
            people = distinct_people((*phone.claimants, owner.name, identity.name))
            if not phone.not_shared and people >= policy.shared_phone_min_identities:
                return MarkShared(owner.id, people)
            return Review("shared_phone_candidate", owner.id)
        return LinkIdentity(owner.id, _rule(evidence, "phone_owner"))

    if owner is None:
        if phone.released_from == linked.id:
            return NoChange("removed_by_a_person")
        if strong_enough:
            return AddPhone(linked.id, _rule(evidence, "second_phone"))
        return NoChange("below_threshold")
    if owner.id == linked.id:
        return NoChange("already_linked")
    if owner.id in never_link or linked.id in never_link:
        return Review("identity_phone_conflict", linked.id, owner.id)
    if evidence.confidence >= policy.merge_threshold and names_compatible(linked.name, owner.name):
        survivor, merged = sorted((linked, owner), key=lambda c: (c.created_at, str(c.id)))
        return Merge(survivor.id, merged.id, _rule(evidence, "same_person_two_customers"))
    return Review("identity_phone_conflict", linked.id, owner.id)


def better_name(name: str, at: datetime, current: str | None, current_at: datetime | None) -> bool:
    """Should `name`, seen at `at`, replace the customer's `current` name? A real name replaces
    a bare @handle (never the reverse); between two of a kind the earlier observation wins, so
    a replay in any order keeps the same name."""
    if not current:
        return True
    handle, current_handle = name.startswith("@"), current.startswith("@")
    if handle != current_handle:
        return current_handle
    return current_at is None or at < current_at


def _rule(evidence: PhoneEvidence, outcome: str) -> str:
    return f"{evidence.rule}:{outcome}"


_LETTERS = re.compile(r"[^\w]+|_|\d", re.UNICODE)


def _letters(name: str) -> str:
    """Letters only, case and accents folded: 'José' and 'jose' are one name."""
    return _LETTERS.sub("", without_accents(name.casefold()))


def names_compatible(a: str | None, b: str | None) -> bool:
    """Could these two names be one person? Unknown names are compatible; '@johndoe' and
    'John Doe' are; 'Maria Lopez' and 'Jose Lopez' are not (a family phone)."""
    if not a or not b:
        return True
    la, lb = _letters(a), _letters(b)
    if not la or not lb or la == lb or la.startswith(lb) or lb.startswith(la):
        return True
    first_a = _letters(a.split()[0]) if a.split() else ""
    first_b = _letters(b.split()[0]) if b.split() else ""
    return bool(first_a) and first_a == first_b


def distinct_people(names: Iterable[str | None]) -> int:
    """How many different people these names must belong to at least: names that could be one
    person (`names_compatible`) count once, and an unknown name counts for nobody. Order-free."""
    known = sorted(
        {name.strip() for name in names if name and _letters(name)}, key=lambda n: (_letters(n), n)
    )
    people: list[str] = []
    for name in known:
        if all(not names_compatible(name, person) for person in people):
            people.append(name)
    return len(people)
