"""The identity repository: read a unit of work's rows once, decide in memory, write once.

It implements `IdentityRepository` (workers/domain/ports.py) for one transaction, composed of two
parts: a row cache (row_cache.py) that reads rows through a `RowStore` on first use, or all of
a batch's at once, and a write buffer (write_buffer.py) of the rows appended. At commit, `flush`
hands the cache's new and changed rows and the buffer's rows to the store in one call. Every
rule about what a row becomes lives here, once; a store only reads and writes rows, so the
PostgreSQL store and the tests' dict store give the same answers by construction.

Rows read in order to be changed are locked by the store until the transaction ends, so the
cached copy stays the truth. A row read as absent cannot be locked: if another transaction
inserts it meanwhile (a writer that does not share the batch's advisory locks, such as an admin
command), the insert at flush fails with `ConcurrentWriteError` and the whole unit of work runs
again, deciding against the committed row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from schema import jsoncodec
from workers.adapters.erasure import Eraser, cluster_of, suppression
from workers.adapters.row_cache import MAX_MERGE_HOPS, RowCache
from workers.adapters.rows import FENCE, Encoded, Row, RowStore
from workers.adapters.write_buffer import WriteBuffer, conflict_key
from workers.domain.email_choice import EmailMet, EmailSeen, better_email
from workers.domain.identity import CustomerState, IdentityState, PhoneState, ThreadState, better_name
from workers.domain.ports import BatchKeys, Cluster, Erasure

CLAIM_KINDS = ("shared_phone_candidate", "shared_phone")


class Repository:
    """`IdentityRepository` over a `RowStore`, for one unit of work."""

    def __init__(self, store: RowStore) -> None:
        self._store = store
        self._buffer = WriteBuffer()
        self._rows = RowCache(store, self._buffer)

    # --- the transaction's scope ----------------------------------------------------------
    def lock(self, keys: Iterable[str]) -> None:
        self._store.lock(sorted(set(keys)))

    def prefetch(self, keys: BatchKeys) -> None:
        """Read (and lock) at once every row a batch may touch: its identities and their
        threads, its threads, its phones, the customers all of these point to (merge chains
        followed), its outbox keys, and the constraints and open conflicts of its identities
        and customers."""
        self._rows.prefetch(keys)

    def flush(self) -> None:
        """Hand every change so far to the store in one call: keyed tables in foreign-key
        order, then the rows inserted once, then the appended rows."""
        writes = [*self._rows.writes(), *self._buffer.writes()]
        if writes:
            self._store.write(writes)

    # --- customers ------------------------------------------------------------------------
    def customer(self, customer_id: uuid.UUID | None) -> CustomerState | None:
        if customer_id is None:
            return None
        row = self._rows.customer(customer_id)
        return CustomerState(row["id"], row["created_at"], row["name"]) if row else None

    def customer_exists(self, customer_id: uuid.UUID) -> bool:
        return self._rows.customer(customer_id) is not None

    def effective(self, customer_id: uuid.UUID | None) -> uuid.UUID | None:
        current = customer_id
        for _ in range(MAX_MERGE_HOPS):
            if current is None:
                return None
            row = self._rows.customer(current)
            nxt = row["merged_into"] if row else None
            if nxt is None:
                return current
            current = nxt
        return current

    def merged_into(self, customer_id: uuid.UUID) -> uuid.UUID | None:
        row = self._rows.customer(customer_id)
        return row["merged_into"] if row else None

    def create_customer(
        self,
        customer_id: uuid.UUID,
        at: datetime,
        name: str | None,
        email: str | None,
        email_source: str = "channel",
    ) -> None:
        if self._rows.customer(customer_id) is not None:
            return
        # A person's constraints name customers that exist: a new one has none.
        self._rows.never_merge.setdefault(customer_id, set())
        self._rows.customers.add(
            {
                "id": customer_id,
                "name": name,
                "email": email,
                "name_at": at if name else None,
                "email_at": at if email else None,
                "created_at": at,
                "merged_into": None,
                "name_by": None,
                "email_by": None,
                "erased_at": None,
                "email_source": email_source if email else None,
            }
        )

    def note_customer_details(
        self,
        customer_id: uuid.UUID,
        name: str | None,
        email: str | None,
        at: datetime,
        email_source: str = "channel",
    ) -> EmailMet | None:
        row = self._rows.customer(customer_id)
        if row is None:
            return None
        changed = False
        # A detail a person set (name_by, email_by) is never changed by an observation.
        if name and not row["name_by"] and better_name(name, at, row["name"], row["name_at"]):
            row["name"], row["name_at"] = name, at
            changed = True
        met = None
        if email:
            seen = EmailSeen(email, email_source, at)
            kept = _kept_email(row)
            if not row["email_by"] and better_email(seen, kept):
                row["email"], row["email_at"], row["email_source"] = email, at, email_source
                changed = True
            if kept is not None and kept.email != email:
                met = EmailMet(seen, kept, replaced=row["email"] == email)
        if at < row["created_at"]:
            row["created_at"] = at
            changed = True
        if changed:
            self._rows.customers.touch(customer_id)
        return met

    def set_merged_into(self, customer_id: uuid.UUID, survivor: uuid.UUID | None, at: datetime) -> None:
        row = self._rows.customer(customer_id)
        if row is not None:
            row["merged_into"] = survivor
            self._rows.customers.touch(customer_id)
        if survivor is None:
            return
        # The merge answers the open questions about these two being one person: those
        # stored (at once) and those still in the buffer, so the review queue stops asking
        # (and a replay that merged first never asked).
        self._store.resolve_conflicts(at, between=(customer_id, survivor))
        both = {customer_id, survivor}
        for pending in self._buffer.conflicts:
            if (
                pending["status"] == "open"
                and {pending.get("customer_id"), pending.get("other_customer_id")} == both
            ):
                pending["status"], pending["resolved_at"] = "resolved", at
        for identity, keys in self._rows.open.items():
            self._rows.open[identity] = [k for k in keys if {k[3], k[4]} != both]

    def set_customer_details(
        self, customer_id: uuid.UUID, name: str | None, email: str | None, by: str, at: datetime
    ) -> None:
        row = self._rows.customer(customer_id)
        if row is None:
            return
        if name is not None:
            row["name"], row["name_at"], row["name_by"] = name, at, by
        if email is not None:
            row["email"], row["email_at"], row["email_by"] = email, at, by
            row["email_source"] = "admin"
        self._rows.customers.touch(customer_id)

    # --- phones ---------------------------------------------------------------------------
    def phone(self, e164: str) -> PhoneState:
        row = self._rows.row(self._rows.phones, e164)
        if row is None:
            return PhoneState(e164)
        owner = self.effective(row["customer_id"])
        return PhoneState(
            e164,
            self.customer(owner),
            bool(row["shared"]),
            holder=row["customer_id"],
            released_from=self.effective(row["released_from"]),
        )

    def phone_claimants(self, e164: str, holder: uuid.UUID | None) -> tuple[str, ...]:
        """The stored rows overlaid with this unit of work's: a cached identity row is the
        truth for that identity (it was locked when read, or is new), and the conflicts not
        written yet are in the buffer."""
        stored = self._store.phone_claims(e164, holder, CLAIM_KINDS)
        self._rows.phone_marks.setdefault(e164, stored.mark)
        names: set[str | None] = set()
        cached = self._rows.identities.rows
        if holder is not None:
            for identity_id, display, handle in stored.linked:
                if cached.get(identity_id) is None:
                    names.add(display or handle)
            for row in cached.values():
                if row is not None and row["customer_id"] == holder:
                    names.add(row["display_name"] or row["handle"])
        for identity_id, display, handle in stored.waiting:
            row = cached.get(identity_id)
            names.add((row["display_name"] or row["handle"]) if row is not None else (display or handle))
        for pending in self._buffer.conflicts:
            if (
                pending["status"] == "open"
                and pending.get("e164") == e164
                and pending.get("kind") in CLAIM_KINDS
                and pending.get("identity_id") is not None
                and (row := self._rows.row(self._rows.identities, pending["identity_id"])) is not None
            ):
                names.add(row["display_name"] or row["handle"])
        return tuple(sorted(name for name in names if name))

    def phone_pinned_not_shared(self, e164: str) -> bool:
        return self.phone_mark(e164) == "not_shared"

    def ensure_phone(self, e164: str, at: datetime, version: str) -> None:
        if self._rows.row(self._rows.phones, e164) is None:
            self._rows.phones.add(_phone_row(e164, None, at, version))

    def claim_phone(self, e164: str, customer_id: uuid.UUID, at: datetime, version: str) -> uuid.UUID | None:
        row = self._rows.row(self._rows.phones, e164)
        if row is None:
            self._rows.phones.add(_phone_row(e164, customer_id, at, version))
            return customer_id
        if row["customer_id"] is None and not row["shared"]:
            row["customer_id"] = customer_id
            self._rows.phones.touch(e164)
        owner: uuid.UUID | None = row["customer_id"]
        return owner

    def release_phone(self, e164: str) -> uuid.UUID | None:
        row = self._rows.row(self._rows.phones, e164)
        if row is None:
            return None
        holder: uuid.UUID | None = row["customer_id"]
        row["customer_id"] = None
        if holder is not None:
            row["released_from"] = holder
        self._rows.phones.touch(e164)
        return holder

    def identities_attested_by(self, e164: str) -> list[uuid.UUID]:
        found = set(self._store.attested_identities(e164))
        # This unit of work's own addresses, not stored yet.
        for (channel, address), row in self._buffer.addresses.items():
            if row["e164"] == e164:
                found.update(
                    identity_id
                    for identity_id, cached in self._rows.identities.rows.items()
                    if cached is not None
                    and cached["platform"] == channel
                    and cached["provider_user_id"] == address
                )
        return sorted(found)

    def record_address(self, channel: str, address: str, e164: str, version: str, at: datetime) -> None:
        self.ensure_phone(e164, at, version)
        self._buffer.add_address(channel, address, e164, version)

    def set_shared(self, e164: str, shared: bool, by: str, at: datetime, version: str) -> uuid.UUID | None:
        row = self._rows.row(self._rows.phones, e164)
        if row is None:
            row = self._rows.phones.add(_phone_row(e164, None, at, version))
        previous: uuid.UUID | None = row["customer_id"]
        row["shared"], row["shared_by"] = shared, by if shared else None
        if shared:
            row["customer_id"] = None
        self._rows.phones.touch(e164)
        return previous

    # --- re-normalization -----------------------------------------------------------------
    def channel_address(self, channel: str, address: str) -> tuple[str, str] | None:
        row = self._buffer.moved.get((channel, address)) or self._buffer.addresses.get((channel, address))
        if row is None:
            row = self._store.address(channel, address)
        return (row["e164"], row["normalizer_version"]) if row is not None else None

    def readdress(self, channel: str, address: str, e164: str, version: str) -> None:
        self._buffer.move_address(channel, address, e164, version)

    def phone_mark(self, e164: str) -> str | None:
        for row in reversed(self._buffer.constraints):
            if row["e164"] == e164 and row["kind"] in ("shared", "not_shared"):
                return str(row["kind"])
        if e164 not in self._rows.phone_marks:
            self._rows.phone_marks[e164] = self._store.phone_claims(e164, None, ()).mark
        return self._rows.phone_marks[e164]

    def consent_signals(self, e164: str) -> list[dict[str, Any]]:
        pending = [row for row in self._buffer.consent if row["e164"] == e164]
        return [*self._store.consent_of(e164), *pending]

    # --- channel identities ---------------------------------------------------------------
    def upsert_identity(
        self,
        identity_id: uuid.UUID,
        platform: str,
        account: str,
        user_id: str,
        handle: str | None,
        name: str | None,
        at: datetime,
    ) -> None:
        row = self._rows.row(self._rows.identities, identity_id)
        if row is None:
            self._rows.identities.add(
                {
                    "id": identity_id,
                    "platform": platform,
                    "business_account": account,
                    "provider_user_id": user_id,
                    "handle": handle,
                    "display_name": name,
                    "customer_id": None,
                    "confidence": 0.0,
                    "verification": "unverified",
                    "decided_by": None,
                    "first_seen_at": at,
                    "last_seen_at": at,
                }
            )
            return
        last = at if row["last_seen_at"] is None or at > row["last_seen_at"] else row["last_seen_at"]
        seen = (
            last,
            handle if handle is not None else row["handle"],
            name if name is not None else row["display_name"],
        )
        if seen != (row["last_seen_at"], row["handle"], row["display_name"]):
            row["last_seen_at"], row["handle"], row["display_name"] = seen
            self._rows.identities.touch(identity_id)

    def identity(self, identity_id: uuid.UUID) -> IdentityState:
        row = self._rows.require(self._rows.identities, identity_id)
        return IdentityState(
            identity_id,
            self.customer(self.effective(row["customer_id"])),
            row["decided_by"],
            row["verification"],
            row["display_name"] or row["handle"],
        )

    def identity_exists(self, identity_id: uuid.UUID) -> bool:
        return self._rows.row(self._rows.identities, identity_id) is not None

    def identity_owner(self, identity_id: uuid.UUID) -> uuid.UUID | None:
        row = self._rows.row(self._rows.identities, identity_id)
        return row["customer_id"] if row else None

    def link_identity(
        self,
        identity_id: uuid.UUID,
        customer_id: uuid.UUID | None,
        confidence: float,
        decided_by: str | None = None,
        verification: str | None = None,
    ) -> None:
        row = self._rows.row(self._rows.identities, identity_id)
        if row is None:
            return
        row["customer_id"], row["confidence"] = customer_id, confidence
        if decided_by is not None:
            row["decided_by"] = decided_by
        if verification is not None:
            row["verification"] = verification
        self._rows.identities.touch(identity_id)

    def raise_confidence(self, identity_id: uuid.UUID, confidence: float) -> None:
        row = self._rows.row(self._rows.identities, identity_id)
        if row is not None and row["confidence"] < confidence:
            row["confidence"] = confidence
            self._rows.identities.touch(identity_id)

    def set_verification(self, identity_id: uuid.UUID, verification: str, by: str) -> None:
        row = self._rows.row(self._rows.identities, identity_id)
        if row is not None:
            row["verification"], row["decided_by"] = verification, by
            self._rows.identities.touch(identity_id)

    def never_link(self, identity_id: uuid.UUID, customer_id: uuid.UUID | None) -> frozenset[uuid.UUID]:
        if identity_id not in self._rows.never_link or (
            customer_id is not None and customer_id not in self._rows.never_merge
        ):
            self._rows.load_constraints([identity_id], [customer_id] if customer_id is not None else [])
        blocked = set(self._rows.never_link[identity_id])
        if customer_id is not None:
            blocked |= self._rows.never_merge[customer_id]
        return frozenset(blocked)

    # --- threads --------------------------------------------------------------------------
    def upsert_thread(
        self,
        thread_id: uuid.UUID,
        thread_key: str,
        channel: str,
        account: str,
        identity_id: uuid.UUID | None,
        at: datetime,
        counts_as_message: bool,
    ) -> None:
        increment = 1 if counts_as_message else 0
        row = self._rows.row(self._rows.threads, thread_id)
        if row is None:
            self._rows.threads.add(
                {
                    "id": thread_id,
                    "thread_key": thread_key,
                    "channel": channel,
                    "business_account": account,
                    "identity_id": identity_id,
                    "customer_id": None,
                    "decided_by": None,
                    "first_message_at": at,
                    "last_message_at": at,
                    "message_count": increment,
                }
            )
            self._rows.index_thread(thread_id, identity_id)
            return
        first, last = row["first_message_at"], row["last_message_at"]
        row["first_message_at"] = at if first is None or at < first else first
        row["last_message_at"] = at if last is None or at > last else last
        row["message_count"] += increment
        if row["identity_id"] is None and identity_id is not None:
            row["identity_id"] = identity_id
            self._rows.index_thread(thread_id, identity_id)
        self._rows.threads.touch(thread_id)

    def thread(self, thread_id: uuid.UUID) -> ThreadState:
        return _thread_state(self._rows.require(self._rows.threads, thread_id))

    def thread_exists(self, thread_id: uuid.UUID) -> bool:
        return self._rows.row(self._rows.threads, thread_id) is not None

    def threads_of_identity(self, identity_id: uuid.UUID) -> list[ThreadState]:
        rows = self._rows.threads.rows
        ids = sorted(self._rows.thread_ids_of(identity_id))
        return [_thread_state(row) for tid in ids if (row := rows.get(tid)) is not None]

    def link_thread(
        self, thread_id: uuid.UUID, customer_id: uuid.UUID | None, decided_by: str | None = None
    ) -> None:
        row = self._rows.row(self._rows.threads, thread_id)
        if row is None:
            return
        row["customer_id"] = customer_id
        if decided_by is not None:
            row["decided_by"] = decided_by
        self._rows.threads.touch(thread_id)

    # --- decisions on record --------------------------------------------------------------
    def add_constraint(
        self,
        kind: str,
        by: str,
        at: datetime,
        *,
        identity_id: uuid.UUID | None = None,
        thread_id: uuid.UUID | None = None,
        customer_id: uuid.UUID | None = None,
        other_customer_id: uuid.UUID | None = None,
        e164: str | None = None,
    ) -> None:
        row: Row = {
            "kind": kind,
            "identity_id": identity_id,
            "thread_id": thread_id,
            "customer_id": customer_id,
            "other_customer_id": other_customer_id,
            "e164": e164,
            "created_by": by,
            "created_at": at,
            "active": True,
        }
        self._buffer.add_constraint(row)
        self._rows.index_constraint(row, self._rows.never_link, self._rows.never_merge)

    def ledger(self, **entry: Any) -> None:
        self._buffer.add_ledger(entry)

    def conflict(self, **values: Any) -> None:
        row = self._buffer.add_conflict(values)
        if row.get("identity_id") in self._rows.open:
            self._rows.open[row["identity_id"]].append(conflict_key(row))

    def open_conflict_exists(
        self,
        kind: str,
        identity_id: uuid.UUID,
        e164: str | None,
        customer_id: uuid.UUID | None,
        other_customer_id: uuid.UUID | None,
    ) -> bool:
        if identity_id not in self._rows.open:
            self._rows.load_open_conflicts([identity_id])
        return (kind, identity_id, e164, customer_id, other_customer_id) in self._rows.open[identity_id]

    def resolve_conflict(self, conflict_id: int, at: datetime) -> bool:
        found = self._store.resolve_conflicts(at, conflict_id=conflict_id) > 0
        self._rows.open.clear()  # whichever identity it was about: read its questions again
        return found

    def consent(self, **values: Any) -> None:
        self._buffer.add_consent(values)

    # --- privacy --------------------------------------------------------------------------
    def fences(self, subjects: Iterable[str]) -> dict[str, datetime]:
        cache = self._rows.fence
        wanted = list(subjects)
        missing = cache.missing(wanted)
        if missing:
            cache.loaded(missing, self._store.load(FENCE, missing))
        return {s: row["erased_at"] for s in wanted if (row := cache.rows.get(s)) is not None}

    def fence(
        self,
        subject: str,
        kind: str,
        at: datetime,
        command_id: str,
        opt_outs: Iterable[dict[str, Any]] = (),
    ) -> None:
        row = self._rows.row(self._rows.fence, subject)
        if row is None:
            self._rows.fence.add(
                {"subject": subject, "kind": kind, "erased_at": at, "command_id": command_id}
            )
        elif at > row["erased_at"]:
            row.update(erased_at=at, command_id=command_id)
            self._rows.fence.touch(subject)
        else:
            return
        for entry in opt_outs:
            self._buffer.add_consent(suppression(subject, entry, command_id))

    def cluster(self, customer_id: uuid.UUID) -> Cluster:
        return cluster_of(self._store.cluster(customer_id))

    def customer_erased(self, customer_id: uuid.UUID) -> bool:
        row = self._rows.customer(customer_id)
        return row is not None and row["erased_at"] is not None

    def erase(self, cluster: Cluster, erasure: Erasure) -> dict[str, list[dict[str, Any]]]:
        return Eraser(self._store, self._rows, self._buffer).erase(cluster, erasure)

    def outbox_get(self, key: str) -> list[dict[str, Any]] | None:
        if key not in self._rows.outbox:
            self._rows.load_outbox([key])
        events = self._rows.outbox[key]
        if isinstance(events, str):  # put by this unit of work: decoded only if asked for again
            events = self._rows.outbox[key] = jsoncodec.loads(events)
        return events

    def outbox_put(
        self,
        key: str,
        thread_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        events: str,
        at: datetime,
    ) -> None:
        self._put(key, thread_id, customer_id, events, at, refused=None)

    def refuse_command(self, key: str, reason: str, at: datetime) -> None:
        self._put(key, None, None, "[]", at, refused=reason)

    def _put(
        self,
        key: str,
        thread_id: uuid.UUID | None,
        customer_id: uuid.UUID | None,
        events: str,
        at: datetime,
        refused: str | None,
    ) -> None:
        if key not in self._rows.outbox:
            self._rows.load_outbox([key])
        if self._rows.outbox[key] is not None:
            return  # stored once: the first application's events (or refusal) are the answer
        self._rows.outbox[key] = events
        self._buffer.add_outbox(
            {
                "idempotency_key": key,
                "thread_id": thread_id,
                "customer_id": customer_id,
                "events": Encoded(events),
                "resolved_at": at,
                "refused": refused,
            }
        )


def _kept_email(row: Row) -> EmailSeen | None:
    """The customer's kept email as an observation (a row from before sources were recorded
    held a booking form's address: the only source there was; one a person set, theirs)."""
    if not row["email"]:
        return None
    source = "admin" if row["email_by"] else row["email_source"] or "booking_form"
    return EmailSeen(row["email"], source, row["email_at"] or row["created_at"])


def _phone_row(e164: str, customer_id: uuid.UUID | None, at: datetime, version: str) -> Row:
    """A phones row as first written (unshared)."""
    return {
        "e164": e164,
        "customer_id": customer_id,
        "shared": False,
        "shared_by": None,
        "normalizer_version": version,
        "created_at": at,
        "released_from": None,
    }


def _thread_state(row: Row) -> ThreadState:
    return ThreadState(
        row["id"],
        row["customer_id"],
        row["identity_id"],
        row["decided_by"],
        row["first_message_at"],
        row["message_count"],
        row["last_message_at"],
    )
