"""What the API checks before it queues an admin command, and how it keys it on Kafka.

The resolver applies commands later and re-checks everything there (it is the single writer),
but an admin who typed a wrong id deserves an answer now rather than a dead letter. Only
facts that cannot change between now and then are checked here: ids that exist stay existing.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from api.phone_input import canonical_phone
from phoneunify.privacy import phone_key
from schema import tables as t
from schema.commands import SYSTEM_ACTIONS, Command
from workers.domain import phones

_ID_TABLES = {
    "customer_id": ("customer", t.customers),
    "survivor_id": ("customer", t.customers),
    "merged_id": ("customer", t.customers),
    "identity_id": ("identity", t.identities),
    "thread_id": ("thread", t.threads),
}


def command_phone(command: Command, region: str) -> str:
    """The canonical E.164 of a phone command's number, read as the resolver reads it."""
    return canonical_phone(str(command.params["phone"]), region)


# Actions whose phone parameter is read as a number (create_customer's is optional).
PHONE_ACTIONS = (
    "mark_shared",
    "unmark_shared",
    "create_customer",
    "add_phone",
    "remove_phone",
    "set_consent",
)


def invalid_params(command: Command, region: str) -> str | None:
    """Why the parameters cannot be applied, beyond what Command itself checks."""
    if command.action in SYSTEM_ACTIONS:
        return f"{command.action} is not an admin command (phoneunify {command.action} issues it)"
    if command.text("phone") and command.action in PHONE_ACTIONS:
        try:
            command_phone(command, region)
        except phones.PhoneError as exc:
            return f"phone is not a phone number: {exc.reason}"
    if command.action == "resolve_conflict":
        value = command.params["conflict_id"]
        if isinstance(value, bool) or not str(value).isdigit():
            return "conflict_id is not a conflict number"
    if command.action == "merge" and command.uuid("survivor_id") == command.uuid("merged_id"):
        return "a customer cannot be merged into itself"
    return None


def missing_reference(conn: Connection, command: Command) -> str | None:
    """The first id the command names that does not exist, in words (for create_customer: the
    new id, if it exists already)."""
    if command.action == "create_customer":
        ident = command.uuid("customer_id")
        if conn.execute(select(t.customers.c.id).where(t.customers.c.id == ident)).first() is not None:
            return f"customer {ident} exists already"
        return None
    for name, (what, table) in _ID_TABLES.items():
        if name not in command.params:
            continue
        ident = command.uuid(name)
        if conn.execute(select(table.c.id).where(table.c.id == ident)).first() is None:
            return f"no {what} {ident}"
    if command.action == "resolve_conflict":
        conflict = int(command.params["conflict_id"])
        if conn.execute(select(t.conflicts.c.id).where(t.conflicts.c.id == conflict)).first() is None:
            return f"no conflict {conflict}"
    return None


def erased_reference(conn: Connection, command: Command) -> str | None:
    """The first customer the command names that was erased, or identity or thread of one, in
    words (nothing more can be decided about an erased person, and one cannot be erased twice)."""
    erased = t.customers.c.erased_at.is_not(None)
    for name, (what, table) in _ID_TABLES.items():
        if name not in command.params:
            continue
        ident = command.uuid(name)
        if what == "customer":
            found = select(t.customers.c.id).where(t.customers.c.id == ident, erased)
            gone = f"customer {ident} was erased"
        else:
            owner = t.customers.c.id == table.c.customer_id
            found = select(table.c.id).join(t.customers, owner).where(table.c.id == ident, erased)
            gone = f"{what} {ident} belongs to a customer who was erased"
        if conn.execute(found).first() is not None:
            return gone
    return None


def partition_key(command: Command, region: str, hash_key: str) -> str:
    """Commands about the same thing share a key, so they are applied in the order issued: a
    link and a later unlink of one identity (or thread) share its id; a merge is keyed by the
    merged customer, which is the customer a later split of it names. A phone command is keyed
    by the phone's keyed hash, never by the number itself; so is a command that gives or takes a
    phone (add_phone, remove_phone, create_customer with a phone), so two commands about who owns
    one phone are applied in the order issued."""
    if command.text("phone") and command.action in PHONE_ACTIONS:
        return phone_key(command_phone(command, region), hash_key)
    for name in ("merged_id", "identity_id", "thread_id", "customer_id"):
        if name in command.params:
            return str(command.uuid(name))
    return command.command_id
