"""Every identity scenario on the dict store: the resolver and the admin commands as wired by
the composition root, with no database (tests/identity_scenarios.py has the scenarios, and
tests/privacy_scenarios.py the erasure and consent ones)."""

from __future__ import annotations

import pytest

from tests.identity_scenarios import (
    Backend,
    Backlinking,
    ConflictsMergesSplits,
    ContactDetails,
    EditsByPeople,
    Journeys,
    MergeProtection,
    OtherPeoplesNumbers,
    ProfilesAsObservations,
    Redelivery,
    Replay,
    Script,
    SeveralNumbers,
    fake_backend,
)
from tests.privacy_scenarios import Consent, Erasure


@pytest.fixture
def db() -> Backend:
    return fake_backend()


@pytest.fixture
def second_db() -> Backend:
    return fake_backend()


@pytest.fixture
def script(db: Backend) -> Script:
    return Script(db=db)


class TestJourneys(Journeys):
    pass


class TestMergeProtection(MergeProtection):
    pass


class TestOtherPeoplesNumbers(OtherPeoplesNumbers):
    pass


class TestSeveralNumbers(SeveralNumbers):
    pass


class TestConflictsMergesSplits(ConflictsMergesSplits):
    pass


class TestBacklinking(Backlinking):
    pass


class TestContactDetails(ContactDetails):
    pass


class TestRedelivery(Redelivery):
    pass


class TestReplay(Replay):
    pass


class TestEditsByPeople(EditsByPeople):
    pass


class TestProfilesAsObservations(ProfilesAsObservations):
    pass


class TestErasure(Erasure):
    pass


class TestConsent(Consent):
    pass
