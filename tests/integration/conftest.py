"""Fixtures of the API tests: the pipeline that seeds the database, and the API over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from phoneunify.settings import Settings
from tests.integration.builders import Pipeline, api_client


@pytest.fixture
def pipe(engine: Engine) -> Pipeline:
    return Pipeline(engine=engine)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with api_client(settings, engine) as c:
        yield c
