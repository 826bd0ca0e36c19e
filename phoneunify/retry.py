"""Bounded retries with exponential backoff, and what counts as worth retrying."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import psycopg2
from sqlalchemy.exc import DBAPIError, OperationalError

# Serialization failure, deadlock, lock timeout, admin shutdown, crash shutdown, cannot connect now,
# connection failure, unable to connect: the database asks us to come back later.
_TRANSIENT_PGCODES = frozenset(
    {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "08006", "08001", "08003"}
)


class RetriesExhaustedError(RuntimeError):
    """The bound on retries was reached: fail loudly rather than drop or ack anything."""


@dataclass
class Backoff:
    first_s: float = 0.1
    max_s: float = 5.0
    max_total_s: float = 300.0
    _waited: float = field(default=0.0, init=False)
    _next: float = field(default=0.0, init=False)

    def next_delay(self) -> float:
        delay = min(self.max_s, self.first_s if self._next == 0 else self._next * 2)
        self._next = delay
        delay = delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security
        if self._waited + delay > self.max_total_s:
            raise RetriesExhaustedError(f"gave up after {self._waited:.0f}s of retries")
        self._waited += delay
        return delay


def transient_db_error(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "pgcode", None) in _TRANSIENT_PGCODES
    # Raised by the DBAPI cursor itself (bulk statements do not go through SQLAlchemy).
    if isinstance(exc, psycopg2.OperationalError):
        return True
    return isinstance(exc, psycopg2.Error) and exc.pgcode in _TRANSIENT_PGCODES
