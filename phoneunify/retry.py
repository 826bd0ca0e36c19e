"""Bounded retries with exponential backoff, and what counts as worth retrying."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg2
from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")

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


def transient_kafka_error(exc: BaseException) -> bool:
    """The broker is unreachable or busy (timeouts, lost connections, a coordinator moving):
    kafka-python marks these retriable. A refused record or a lost group membership is not."""
    return isinstance(exc, KafkaError) and bool(exc.retriable)


def retrying(
    call: Callable[[], T],
    transient: Callable[[BaseException], bool],
    what: str,
    *,
    backoff: Backoff | None = None,
    wait: Callable[[float], object] = time.sleep,
) -> T:
    """`call()`, again after a backoff delay whenever it fails transiently. Past the backoff's
    bound, RetriesExhaustedError (chained to the last failure); any other exception at once.
    `wait` sleeps the delay; if it returns True (a stop Event was set), the failure is raised
    instead of retried: a process asked to stop does not sit out an outage first."""
    backoff = backoff or Backoff()
    while True:
        try:
            return call()
        except Exception as exc:
            if not transient(exc):
                raise
            delay = backoff.next_delay()  # raises RetriesExhaustedError past its bound
            log.warning("%s failed transiently (%s); retry in %.1fs", what, type(exc).__name__, delay)
            if wait(delay):
                raise
