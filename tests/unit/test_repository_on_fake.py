"""The identity repository's contract (tests/contract/) on the dict store the unit tests use."""

from __future__ import annotations

import pytest

from tests.contract.repository_contract import RepositoryContract
from tests.identity_scenarios import Backend, fake_backend


@pytest.fixture
def db() -> Backend:
    return fake_backend()


class TestRepositoryOnTheDictStore(RepositoryContract):
    pass
