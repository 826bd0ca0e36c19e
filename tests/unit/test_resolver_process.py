"""The resolver child's handling of admin commands: faust acks whatever an agent lets escape,
so a command is either applied (retrying transient database errors) or dead-lettered with its
reason, never dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from phoneunify.settings import Settings
from schema.commands import Command
from schema.linked import make_event
from workers.streams import resolver_process as rp


class _Commands:
    """Stands in for CommandHandler: fails with the given exceptions first, then applies."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.applied: list[Command] = []

    def apply(self, command: Command) -> list[Any]:
        if self.failures:
            raise self.failures.pop(0)
        self.applied.append(command)
        customer = command.params["customer_id"]
        return [make_event("identity.verified", "2026-01-05T09:00:00.000Z", customer, {}, command.command_id)]


@pytest.fixture
def child_with() -> Iterator[Any]:
    def install(commands: _Commands) -> _Commands:
        rp._InThisProcess.child = rp._Child(Settings(), None, commands)  # type: ignore[arg-type]
        return commands

    yield install
    rp._InThisProcess.child = None


def _command() -> bytes:
    customer = str(uuid.uuid4())
    return Command(
        "link_identity", "admin", {"identity_id": str(uuid.uuid4()), "customer_id": customer}
    ).to_json()


def _transient() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_a_transient_database_error_is_retried_and_the_command_applies(child_with: Any) -> None:
    commands = child_with(_Commands(_transient()))
    out = rp.apply_command(_command())
    assert len(commands.applied) == 1 and out.dead == []
    assert [key for key, _ in out.linked] == [commands.applied[0].params["customer_id"].encode()]
    assert out.outcomes == {"link_identity": 1}


def test_any_other_failure_dead_letters_the_command_with_its_reason(child_with: Any) -> None:
    child_with(_Commands(RuntimeError("the identity vanished")))
    value = _command()
    out = rp.apply_command(value)
    assert out.linked == [] and out.outcomes == {"dead_letter": 1}
    ((_, letter),) = out.dead
    assert b"RuntimeError: the identity vanished" in letter and b"link_identity" in letter


def test_a_malformed_command_is_dead_lettered(child_with: Any) -> None:
    child_with(_Commands())
    out = rp.apply_command(b'{"action": "nope"}')
    assert out.outcomes == {"dead_letter": 1} and len(out.dead) == 1
