"""The erasure and consent scenarios on the dict store (tests/privacy_scenarios.py has them)."""

from __future__ import annotations

import pytest

from tests.identity_scenarios import Backend, Script, fake_backend
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


class TestErasure(Erasure):
    pass


class TestConsent(Consent):
    pass
