"""The identity repository's contract (tests/contract/) on PostgreSQL, and what only it does:
transaction-scoped locks, and transient database errors told apart from the rest."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine

from phoneunify.db import make_engine
from schema import tables as t
from schema.linked import derived_id
from tests.contract.repository_contract import AT, RepositoryContract
from tests.identity_scenarios import Backend, postgres_backend, rows
from workers import bootstrap
from workers.domain.ports import ConcurrentWriteError, Erasure, TransientError

pytestmark = pytest.mark.infra


@pytest.fixture
def db(engine: Engine) -> Backend:
    return postgres_backend(engine)


class TestRepositoryOnPostgres(RepositoryContract):
    pass


def test_a_lock_is_held_until_the_unit_of_work_ends(db: Backend) -> None:
    entered = threading.Event()
    with db.units() as first:
        first.identities.lock(["phone:+19165551234", "thread:a"])
        first.identities.outbox_get("sms:1")  # the locks go out with the first read

        def second() -> None:
            with db.units() as uow:
                uow.identities.lock(["thread:b", "phone:+19165551234"])
                uow.identities.outbox_get("sms:2")
                entered.set()

        waiter = threading.Thread(target=second)
        waiter.start()
        assert not entered.wait(0.5), "the second unit of work must wait for the first"
    waiter.join(timeout=10)
    assert entered.is_set()


def test_an_unreachable_database_is_a_transient_error() -> None:
    units = bootstrap.postgres_units(make_engine("postgresql+psycopg2://nobody:x@127.0.0.1:1/none"))
    with pytest.raises(TransientError), units() as uow:
        uow.identities.phone("+19165551234")


def test_an_erasure_is_stale_when_the_person_changed_since_it_was_read(db: Backend) -> None:
    """The cluster is read without locks (its keys are locked before its rows are read for
    change): a phone given to the person meanwhile, by a writer that does not share those
    locks (an admin command), shows when the erasure reads the rows, and it runs again."""
    ana = derived_id("customer", "ana")
    with db.units() as uow:
        uow.identities.create_customer(ana, AT, "Ana", None)
        uow.commit()
    with db.units() as uow:
        cluster = uow.identities.cluster(ana)
        with db.units() as admin:
            admin.identities.claim_phone("+19165551234", ana, AT, "v1")
            admin.commit()
        with pytest.raises(ConcurrentWriteError):
            uow.identities.erase(cluster, Erasure(AT, "cmd", {}, {}, {}))
    (row,) = rows(db, t.customers)
    assert (row["name"], row["erased_at"]) == ("Ana", None)
