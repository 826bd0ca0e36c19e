"""Admin identity commands on `identity.commands` (schema_version 1).

The API validates and publishes them; the resolver applies them with the same rules about
locking and ledger as its own decisions. `command_id` makes a re-sent command harmless.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from schema.invalid import InvalidMessage, decode_json
from schema.topics import CONSENT_CHANNELS

COMMAND_SCHEMA_VERSION = 1

# action -> required params
ACTIONS: dict[str, tuple[str, ...]] = {
    "link_identity": ("identity_id", "customer_id"),
    "unlink_identity": ("identity_id",),
    "verify_identity": ("identity_id",),
    "reject_identity": ("identity_id",),
    "link_thread": ("thread_id", "customer_id"),
    "unlink_thread": ("thread_id",),
    "merge": ("survivor_id", "merged_id"),
    "split": ("customer_id",),
    "mark_shared": ("phone",),
    "unmark_shared": ("phone",),
    "resolve_conflict": ("conflict_id",),
    "create_customer": ("customer_id", "name"),
    "edit_customer": ("customer_id",),
    "add_phone": ("customer_id", "phone"),
    "remove_phone": ("customer_id", "phone"),
    "erase_customer": ("customer_id",),
    "set_consent": ("phone", "channel", "status", "reason"),
    # addresses: [{"channel": ..., "address": ...}], read again with normalizer `version`.
    "renormalize": ("version", "addresses"),
}
# action -> optional params (absent or empty: not given)
OPTIONAL: dict[str, tuple[str, ...]] = {
    "create_customer": ("email", "phone"),
    "edit_customer": ("name", "email"),
}
CONSENT_STATUSES = ("opted_in", "opted_out")
# Issued by phoneunify itself (`phoneunify renormalize`), never through the API: the ledger's
# actor is system:<actor>.
SYSTEM_ACTIONS = frozenset({"renormalize"})
MAX_RENORMALIZE_ADDRESSES = 500
_UUID_PARAMS = frozenset({"identity_id", "customer_id", "thread_id", "survivor_id", "merged_id"})
MAX_NAME = 200
MAX_EMAIL = 254
# One @, no spaces, a dot in the domain: enough to catch a typo; the address is never mailed.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class CommandError(InvalidMessage):
    """A command that cannot be applied (malformed, or naming nothing that exists); the message
    says why. It goes to the dead-letter topic with that reason."""


@dataclass(frozen=True)
class Command:
    action: str
    actor: str
    params: dict[str, Any]
    command_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    issued_at: str = ""
    # Free text from the admin (why, a ticket); the actor is always the credential's name.
    note: str = ""
    schema_version: int = COMMAND_SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise CommandError(f"unknown action {self.action!r}")
        for name in ACTIONS[self.action]:
            if name not in self.params or self.params[name] in (None, ""):
                raise CommandError(f"{self.action} needs {name}")
            if name in _UUID_PARAMS:
                try:
                    uuid.UUID(str(self.params[name]))
                except ValueError as exc:
                    raise CommandError(f"{name} is not a UUID") from exc
        if not self.actor:
            raise CommandError("a command needs an actor")
        if self.action == "resolve_conflict":
            value = self.params["conflict_id"]
            if isinstance(value, bool) or not str(value).isdigit():
                raise CommandError("conflict_id is not a conflict number")
        problem = details_problem(self.action, self.params)
        if problem:
            raise CommandError(problem)
        if self.action == "set_consent":
            if self.params["status"] not in CONSENT_STATUSES:
                raise CommandError(f"status must be one of {', '.join(CONSENT_STATUSES)}")
            if self.params["channel"] not in CONSENT_CHANNELS:
                raise CommandError(f"channel must be one of {', '.join(CONSENT_CHANNELS)}")
            if not isinstance(self.params["reason"], str) or len(self.params["reason"]) > 500:
                raise CommandError("reason must be text of at most 500 characters")
        if self.action == "renormalize":
            _check_addresses(self.params["addresses"])

    @property
    def ledger_actor(self) -> str:
        """Who the ledger says decided: admin:<credential>, or system:<tool> for system actions."""
        return ("system:" if self.action in SYSTEM_ACTIONS else "admin:") + self.actor

    def uuid(self, name: str) -> uuid.UUID:
        return uuid.UUID(str(self.params[name]))

    def text(self, name: str) -> str | None:
        """A text parameter, stripped; None when absent or empty (an optional one not given)."""
        value = self.params.get(name)
        if value is None:
            return None
        return str(value).strip() or None

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "schema_version": self.schema_version,
                "command_id": self.command_id,
                "action": self.action,
                "actor": self.actor,
                "params": self.params,
                "issued_at": self.issued_at,
                "note": self.note,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Command:
        data = decode_json(raw, CommandError)
        if not isinstance(data, dict) or data.get("schema_version") != COMMAND_SCHEMA_VERSION:
            raise CommandError("not an identity command v1")
        params = data.get("params")
        if not isinstance(params, dict):
            raise CommandError("params must be an object")
        return cls(
            action=str(data.get("action")),
            actor=str(data.get("actor") or ""),
            params=params,
            command_id=str(data.get("command_id") or ""),
            issued_at=str(data.get("issued_at") or ""),
            note=str(data.get("note") or ""),
        )


def details_problem(action: str, params: dict[str, Any]) -> str | None:
    """What is wrong with a customer's name and email in an edit command, in words."""
    if action not in ("create_customer", "edit_customer"):
        return None
    for name in ("name", "email"):
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} must be text"
    name, email = (str(params.get(k) or "").strip() for k in ("name", "email"))
    if action == "create_customer" and not name:
        return "create_customer needs name"
    if action == "edit_customer" and not name and not email:
        return "edit_customer needs name or email"
    if len(name) > MAX_NAME:
        return f"name is longer than {MAX_NAME} characters"
    if any(ord(ch) < 32 for ch in name):
        return "name holds control characters"
    if email and (len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email)):
        return "email is not an email address"
    return None


def _check_addresses(addresses: Any) -> None:
    if not isinstance(addresses, list) or not 0 < len(addresses) <= MAX_RENORMALIZE_ADDRESSES:
        raise CommandError(f"addresses must be a list of 1 to {MAX_RENORMALIZE_ADDRESSES} addresses")
    for index, item in enumerate(addresses):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("channel"), str)
            and isinstance(item.get("address"), str)
            and item["channel"]
            and item["address"]
        ):
            raise CommandError(f"addresses[{index}] must be {{channel, address}} strings")
