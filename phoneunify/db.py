"""Engine construction: one place for pool sizes and connect timeouts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Engine, create_engine

# Advisory lock ids: 31-bit hashes of natural keys. With 1,024 buckets a resolver batch of 500
# messages (~1,500 keys) held most of them, so two workers' batches nearly always shared one and
# ran one after the other; in 2^31 two batches of distinct keys collide about once in a thousand.
LOCK_IDS = 1 << 31


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


def advisory_locks_sql(space: int, keys: Iterable[str]) -> str:
    """One statement taking transaction-scoped advisory locks on natural keys ('' for none), in
    one order, so two transactions locking overlapping keys wait for each other, never deadlock.
    Integers only are written into the text (no bound parameter to clash with a neighbour's)."""
    buckets = sorted({_lock_id(key) for key in keys})
    if not buckets:
        return ""
    array = "{" + ",".join(map(str, buckets)) + "}"
    return (
        f"SELECT count(pg_advisory_xact_lock({int(space)}, b))"  # noqa: S608 - integers
        f" FROM (SELECT unnest('{array}'::int[]) AS b ORDER BY 1) AS ordered"
    )


def _lock_id(key: str) -> int:
    # A stable hash (not Python's salted hash()): every process must agree on the ids.
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % LOCK_IDS
