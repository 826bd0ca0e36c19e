"""The Alembic baseline on the real PostgreSQL: upgrade, downgrade, no drift from the code's tables."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from schema.migrate import downgrade, upgrade
from schema.tables import metadata

pytestmark = pytest.mark.infra


def test_migrations_match_the_tables_the_code_uses(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_removes_everything_and_upgrade_restores_it(database_url: str) -> None:
    engine = create_engine(database_url)
    downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
