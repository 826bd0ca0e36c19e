"""Running a use case in a unit of work: committed when it returns, rolled back when it raises."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from workers.domain.ports import ConcurrentWriteError, IdentityRepository, TransientError, UnitOfWorkFactory

log = logging.getLogger(__name__)

T = TypeVar("T")
# A unit of work meets a concurrent writer only while partitions move or an admin command
# lands on the same rows; running it again sees the other's rows. More than this in a row is
# not a race but trouble: let the caller back off.
ATTEMPTS = 3


def committed(uow: UnitOfWorkFactory, work: Callable[[IdentityRepository], T], what: str) -> T:
    """`work` in a unit of work, then commit; again in a fresh one when another writer made it
    stale (`ConcurrentWriteError`: nothing of the stale attempt was written)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with uow() as unit:
                result = work(unit.identities)
                unit.commit()
            return result
        except ConcurrentWriteError as exc:
            if attempt == ATTEMPTS:
                raise TransientError(f"{what}: {exc}, {ATTEMPTS} times in a row") from exc
            log.info("%s met a concurrent writer (%s); running it again", what, exc)
    raise AssertionError("unreachable")
