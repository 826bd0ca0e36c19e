"""Submitting an admin decision: the one path shared by `POST /api/v1/admin/commands` and the
console's forms.

Validate the command, check that the ids it names exist, choose its Kafka key, publish it on
identity.commands. The resolver (the single writer of identity) applies it later; until then
`outcome` says it is not applied yet (None), applied, or refused with the reason.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from api import commands_check, queries
from ingest.publisher import Publisher, PublishError, Record
from schema.commands import Command, CommandError
from schema.topics import Topics


class Refused(Exception):
    """The command was not queued: `status` is the HTTP status that says why, `reason` the words."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class CommandSubmitter:
    engine: Engine
    publisher: Publisher
    topics: Topics
    region: str
    hash_key: str

    def submit(self, actor: str, action: str, params: dict[str, Any], note: str = "") -> Command:
        """Queue one command on behalf of `actor` (a credential's name). Raises Refused: 400 for a
        malformed command, 404 for an id that names nothing (409: create_customer's id exists),
        410 for a customer who was erased (or an identity or thread of one), 503 when the broker
        did not take it."""
        if action == "create_customer" and not params.get("customer_id"):
            # The API names the new customer, so the command replays to the same id and the
            # caller can follow it (the resolver refuses an id that exists).
            params = {**params, "customer_id": str(uuid.uuid4())}
        try:
            command = Command(
                action=action,
                actor=actor,
                params=params,
                issued_at=datetime.now(UTC).isoformat(),
                note=note,
            )
            problem = commands_check.invalid_params(command, self.region)
        except CommandError as exc:
            raise Refused(400, str(exc)) from exc
        if problem:
            raise Refused(400, problem)
        with self.engine.connect() as conn:
            missing = commands_check.missing_reference(conn, command)
            gone = None if missing else commands_check.erased_reference(conn, command)
        if missing:
            # An id that names nothing is 404; a new customer's id that exists already, 409.
            raise Refused(409 if command.action == "create_customer" else 404, missing)
        if gone:
            raise Refused(410, gone)
        key = commands_check.partition_key(command, self.region, self.hash_key)
        try:
            self.publisher.publish([Record(self.topics.commands, key, command.to_json())])
        except PublishError as exc:
            raise Refused(503, str(exc)) from exc
        return command

    def outcome(self, command_id: str) -> queries.CommandOutcome | None:
        """What the resolver did with the command (applied, or refused and why); None while
        it has not read it yet."""
        with self.engine.connect() as conn:
            return queries.command_outcome(conn, command_id)
