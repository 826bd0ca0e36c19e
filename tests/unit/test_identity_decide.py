"""Spec of the pure identity rules (workers/domain/identity.py), one table row per case.

Each numbered rule of the module docstring has its block of rows; a row reads as "given this
evidence, this identity and this phone, the decision is ...".
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from workers.domain.identity import (
    AddPhone,
    CreateCustomer,
    CustomerState,
    Decision,
    IdentityState,
    LinkIdentity,
    MarkShared,
    Merge,
    NoChange,
    PhoneState,
    Policy,
    Review,
    decide,
    distinct_people,
    names_compatible,
)
from workers.domain.model import PhoneEvidence

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "+19165551234"

# Maria is the older customer, Jose the newer one.
MARIA = CustomerState(uuid.UUID(int=0xA), T0, "Maria Lopez")
JOSE = CustomerState(uuid.UUID(int=0xB), T0 + timedelta(days=1), "Jose Lopez")
NAMELESS = CustomerState(uuid.UUID(int=0xC), T0 + timedelta(days=2), None)
MARIA_HOME = CustomerState(uuid.UUID(int=0xD), T0 - timedelta(days=1), "Maria Lopez")
# One person who became two customers (rule 6): compatible names.
ALEX = CustomerState(uuid.UUID(int=0x11), T0, "Alex Rivera")
ALEX_NEW = CustomerState(uuid.UUID(int=0x12), T0 + timedelta(days=1), "alex")
# Same creation time as ALEX: the id breaks the tie.
ALEX_TWIN = CustomerState(uuid.UUID(int=0x10), T0, "Alex R.")
IDENTITY_ID = uuid.UUID(int=0x1D)


def ev(
    source: str = "text",
    confidence: float = 0.95,
    owner: str = "sender",
    rule: str = "text_self_cue",
) -> PhoneEvidence:
    return PhoneEvidence(PHONE, "916-555-1234", source, confidence, rule, owner=owner)  # type: ignore[arg-type]


ATTESTED = ev("attested", 1.0, rule="provider_attested")
FORM = ev("form", 0.95, rule="booking_form_field")
SELF_CUE = ev()
BARE = ev(confidence=0.7, rule="text_bare")
BARE_DIGITS = ev(confidence=0.6, rule="text_bare")
WEAK = ev(confidence=0.45, rule="text_bare")
OTHER_PERSON = ev(confidence=0.15, owner="other_person", rule="text_cue")
BUSINESS = ev(confidence=0.0, owner="business", rule="text_bare")
UNKNOWN_OWNER = ev(confidence=0.45, owner="unknown", rule="text_bare")


def unlinked(name: str | None = "Maria Lopez", decided_by: str | None = None) -> IdentityState:
    return IdentityState(IDENTITY_ID, None, decided_by, name=name)


def linked(customer: CustomerState, name: str | None = None, decided_by: str | None = None) -> IdentityState:
    return IdentityState(IDENTITY_ID, customer, decided_by, name=name)


def unowned() -> PhoneState:
    return PhoneState(PHONE)


def owned(customer: CustomerState, **kw: object) -> PhoneState:
    return PhoneState(PHONE, customer, holder=customer.id, **kw)  # type: ignore[arg-type]


SHARED = PhoneState(PHONE, None, shared=True)


@dataclass(frozen=True)
class Case:
    id: str
    evidence: PhoneEvidence
    identity: IdentityState
    phone: PhoneState
    expected: Decision
    never: frozenset[uuid.UUID] = frozenset()
    policy: Policy = field(default_factory=Policy)


CASES = [
    # 1. Evidence that does not identify the sender decides nothing, whatever else is true.
    Case("1-other-person-unowned", OTHER_PERSON, unlinked(), unowned(), NoChange("not_the_senders_number")),
    Case("1-other-person-owned", OTHER_PERSON, unlinked(), owned(JOSE), NoChange("not_the_senders_number")),
    Case("1-business-number", BUSINESS, unlinked(), unowned(), NoChange("not_the_senders_number")),
    Case("1-business-on-linked", BUSINESS, linked(MARIA), owned(JOSE), NoChange("not_the_senders_number")),
    Case("1-unknown-owner", UNKNOWN_OWNER, unlinked(), unowned(), NoChange("not_the_senders_number")),
    Case("1-other-person-shared", OTHER_PERSON, unlinked(), SHARED, NoChange("not_the_senders_number")),
    # 2. A shared phone links nobody; an unlinked identity claiming it goes to review.
    Case("2-shared-unlinked-text", SELF_CUE, unlinked(), SHARED, Review("shared_phone")),
    Case("2-shared-unlinked-attested", ATTESTED, unlinked(), SHARED, Review("shared_phone")),
    Case("2-shared-linked", ATTESTED, linked(MARIA), SHARED, NoChange("shared_phone")),
    Case(
        "2-shared-beats-admin", FORM, linked(MARIA, decided_by="admin:ops"), SHARED, NoChange("shared_phone")
    ),
    # 3. A person's decision stands: only an unowned phone may be added to the customer they chose.
    Case(
        "3-admin-linked-gains-unowned",
        FORM,
        linked(MARIA, decided_by="admin:ops"),
        unowned(),
        AddPhone(MARIA.id, "phone_for_admin_linked_identity"),
    ),
    Case(
        "3-admin-linked-weak-unowned",
        ev(confidence=0.5, rule="text_bare"),
        linked(MARIA, decided_by="admin:ops"),
        unowned(),
        NoChange("decided_by_a_person"),
    ),
    Case(
        "3-admin-linked-other-owner",
        ATTESTED,
        linked(MARIA, decided_by="admin:ops"),
        owned(JOSE),
        Review("identity_phone_conflict", MARIA.id, JOSE.id),
    ),
    Case(
        "3-admin-linked-same-owner",
        ATTESTED,
        linked(MARIA, decided_by="admin:ops"),
        owned(MARIA),
        NoChange("decided_by_a_person"),
    ),
    Case(
        "3-admin-unlinked-never-relinks",
        ATTESTED,
        unlinked(decided_by="admin:ops"),
        owned(MARIA),
        NoChange("decided_by_a_person"),
    ),
    Case(
        "3-admin-unlinked-never-creates",
        ATTESTED,
        unlinked(decided_by="admin:ops"),
        unowned(),
        NoChange("decided_by_a_person"),
    ),
    # 4. Below the link threshold nothing links.
    Case(
        "4-weak-owned", ev(confidence=0.5), unlinked(), owned(MARIA), Review("low_confidence_link", MARIA.id)
    ),
    Case("4-weak-unowned", ev(confidence=0.5), unlinked(), unowned(), Review("low_confidence_link", None)),
    Case("4-weak-linked-unowned", ev(confidence=0.5), linked(MARIA), unowned(), NoChange("below_threshold")),
    Case(
        "4-weak-linked-other-owner",
        ev(confidence=0.5),
        linked(MARIA),
        owned(JOSE),
        Review("identity_phone_conflict", MARIA.id, JOSE.id),
    ),
    Case(
        "4-threshold-is-configuration",
        BARE,
        unlinked(),
        unowned(),
        Review("low_confidence_link", None),
        policy=Policy(link_threshold=0.8),
    ),
    Case(
        "4-at-threshold-links", BARE_DIGITS, unlinked(), unowned(), CreateCustomer("text_bare:new_customer")
    ),
    # 5. An unlinked identity joins the phone's owner, or makes a new customer.
    Case("5-unowned-creates", SELF_CUE, unlinked(), unowned(), CreateCustomer("text_self_cue:new_customer")),
    Case(
        "5-attested-creates",
        ATTESTED,
        unlinked(None),
        unowned(),
        CreateCustomer("provider_attested:new_customer"),
    ),
    Case("5-form-creates", FORM, unlinked(), unowned(), CreateCustomer("booking_form_field:new_customer")),
    Case(
        "5-joins-owner",
        SELF_CUE,
        unlinked("Maria"),
        owned(MARIA),
        LinkIdentity(MARIA.id, "text_self_cue:phone_owner"),
    ),
    Case(
        "5-unknown-name-joins",
        BARE,
        unlinked(None),
        owned(MARIA),
        LinkIdentity(MARIA.id, "text_bare:phone_owner"),
    ),
    Case(
        "5-nameless-owner-joins",
        SELF_CUE,
        unlinked("Jose Lopez"),
        owned(NAMELESS),
        LinkIdentity(NAMELESS.id, "text_self_cue:phone_owner"),
    ),
    Case(
        "5-never-link",
        SELF_CUE,
        unlinked("Maria"),
        owned(MARIA),
        NoChange("never_link"),
        never=frozenset({MARIA.id}),
    ),
    Case(
        "5-names-clash-review",
        SELF_CUE,
        unlinked("Jose Lopez"),
        owned(MARIA),
        Review("shared_phone_candidate", MARIA.id),
    ),
    Case(
        "5-names-clash-form-review",
        FORM,
        unlinked("Jose Lopez"),
        owned(MARIA),
        Review("shared_phone_candidate", MARIA.id),
    ),
    Case(
        "5-attested-skips-names",
        ATTESTED,
        unlinked("Jose Lopez"),
        owned(MARIA),
        LinkIdentity(MARIA.id, "provider_attested:phone_owner"),
    ),
    Case(
        "5-third-person-marks-shared",
        SELF_CUE,
        unlinked("Ana Lopez"),
        owned(MARIA, claimants=("Jose Lopez", "maria")),
        MarkShared(MARIA.id, 3),
    ),
    Case(
        "5-same-people-again-review",
        SELF_CUE,
        unlinked("Jose Lopez"),
        owned(MARIA, claimants=("Jose Lopez", "Maria Lopez", "@maria.lopez")),
        Review("shared_phone_candidate", MARIA.id),
    ),
    Case(
        "5-person-said-not-shared",
        SELF_CUE,
        unlinked("Ana Lopez"),
        owned(MARIA, claimants=("Jose Lopez",), not_shared=True),
        Review("shared_phone_candidate", MARIA.id),
    ),
    Case(
        "5-shared-threshold-is-configuration",
        SELF_CUE,
        unlinked("Jose Lopez"),
        owned(MARIA),
        MarkShared(MARIA.id, 2),
        policy=Policy(shared_phone_min_identities=2),
    ),
    # 6. A linked identity gains an unowned phone, merges only at the merge threshold.
    Case(
        "6-second-phone", SELF_CUE, linked(ALEX), unowned(), AddPhone(ALEX.id, "text_self_cue:second_phone")
    ),
    Case("6-already-linked", ATTESTED, linked(ALEX), owned(ALEX), NoChange("already_linked")),
    Case(
        "6-merge-survivor-is-older",
        SELF_CUE,
        linked(ALEX_NEW),
        owned(ALEX),
        Merge(ALEX.id, ALEX_NEW.id, "text_self_cue:same_person_two_customers"),
    ),
    Case(
        "6-merge-survivor-is-older-other-side",
        ATTESTED,
        linked(ALEX),
        owned(ALEX_NEW),
        Merge(ALEX.id, ALEX_NEW.id, "provider_attested:same_person_two_customers"),
    ),
    Case(
        "6-merge-tie-broken-by-id",
        FORM,
        linked(ALEX),
        owned(ALEX_TWIN),
        Merge(ALEX_TWIN.id, ALEX.id, "booking_form_field:same_person_two_customers"),
    ),
    Case(
        "6-merge-at-threshold",
        ev(confidence=0.9),
        linked(ALEX),
        owned(ALEX_NEW),
        Merge(ALEX.id, ALEX_NEW.id, "text_self_cue:same_person_two_customers"),
    ),
    Case(
        "6-below-merge-threshold-conflict",
        BARE,
        linked(ALEX),
        owned(ALEX_NEW),
        Review("identity_phone_conflict", ALEX.id, ALEX_NEW.id),
    ),
    Case(
        "6-merge-threshold-is-configuration",
        SELF_CUE,
        linked(ALEX),
        owned(ALEX_NEW),
        Review("identity_phone_conflict", ALEX.id, ALEX_NEW.id),
        policy=Policy(merge_threshold=0.99),
    ),
    Case(
        "6-names-clash-no-merge",
        ATTESTED,
        linked(MARIA_HOME),
        owned(JOSE),
        Review("identity_phone_conflict", MARIA_HOME.id, JOSE.id),
    ),
    Case(
        "6-unknown-name-merges",
        SELF_CUE,
        linked(NAMELESS),
        owned(JOSE),
        Merge(JOSE.id, NAMELESS.id, "text_self_cue:same_person_two_customers"),
    ),
    Case(
        "6-never-merge-owner",
        ATTESTED,
        linked(ALEX),
        owned(ALEX_NEW),
        Review("identity_phone_conflict", ALEX.id, ALEX_NEW.id),
        never=frozenset({ALEX_NEW.id}),
    ),
    Case(
        "6-never-merge-linked",
        ATTESTED,
        linked(ALEX),
        owned(ALEX_NEW),
        Review("identity_phone_conflict", ALEX.id, ALEX_NEW.id),
        never=frozenset({ALEX.id}),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decide(case: Case) -> None:
    assert decide(case.evidence, case.identity, case.phone, case.policy, case.never) == case.expected


def test_every_rule_has_cases() -> None:
    rules = {c.id.split("-", 1)[0] for c in CASES}
    assert rules == {"1", "2", "3", "4", "5", "6"}


def test_decide_is_pure_and_deterministic() -> None:
    for case in CASES:
        first = decide(case.evidence, case.identity, case.phone, case.policy, case.never)
        assert decide(case.evidence, case.identity, case.phone, case.policy, case.never) == first


def test_policy_defaults_are_the_documented_thresholds() -> None:
    policy = Policy()
    assert (policy.link_threshold, policy.merge_threshold, policy.shared_phone_min_identities) == (
        0.6,
        0.9,
        3,
    )
    assert policy.version


NAMES = [
    (None, "Maria Lopez", True),
    ("", "Maria Lopez", True),
    ("Maria Lopez", None, True),
    ("@johndoe", "John Doe", True),
    ("john_doe", "John Doe", True),
    ("Sarah", "Sarah Johnson", True),
    ("sarah.j", "Sarah Johnson", True),
    ("Mike Chen", "MIKE", True),
    ("mike123", "Mike", True),
    ("José López", "jose lopez", True),
    ("María", "MARIA LOPEZ", True),
    ("John Smith", "John Doe", True),
    ("Иван", "иван петров", True),
    ("12345", "Bob", True),
    ("Maria Lopez", "Jose Lopez", False),
    ("Ana", "Bob", False),
    ("J. Smith", "John Smith", False),
    ("Front Desk", "Maria Lopez", False),
]


@pytest.mark.parametrize(("a", "b", "expected"), NAMES)
def test_names_compatible(a: str | None, b: str | None, expected: bool) -> None:
    assert names_compatible(a, b) is expected
    assert names_compatible(b, a) is expected


PEOPLE = [
    ((), 0),
    ((None, "", "  ", "123"), 0),
    (("Maria Lopez",), 1),
    (("Maria Lopez", "maria", "@maria.lopez", "MARIA LOPEZ"), 1),
    (("Maria Lopez", "Jose Lopez"), 2),
    (("Maria Lopez", "Jose Lopez", None, "jose"), 2),
    (("Maria Lopez", "Jose Lopez", "Ana Lopez"), 3),
]


@pytest.mark.parametrize(("names", "expected"), PEOPLE)
def test_distinct_people(names: tuple[str | None, ...], expected: int) -> None:
    assert distinct_people(names) == expected


def test_distinct_people_ignores_order() -> None:
    names = ("Maria Lopez", "maria", "Jose Lopez", "Ana", "ana lopez", "Front Desk")
    counts = {distinct_people(p) for p in itertools.permutations(names)}
    assert counts == {4}
