"""Engine construction: one place for pool sizes and connect timeouts."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine


def make_engine(url: str, pool_size: int = 5) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        # Bounded waits on every network call: connect, and any single statement.
        connect_args={"connect_timeout": 5, "options": "-c statement_timeout=30000"},
    )
