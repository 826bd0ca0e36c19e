"""Admin commands: people decide last.

Each command changes the identity tables, writes a durable constraint that automation honours
(`decided_by` on identities and threads, rows in identity_constraints), appends to the ledger,
and returns the linked events to publish. A command applied twice (same command_id) returns
the events of its first application and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from phoneunify.privacy import phone_key
from schema.commands import Command, CommandError
from schema.envelopes import EnvelopeError, parse_time, utc_iso
from schema.linked import LinkedEvent, events_array, make_event
from workers.domain import phones
from workers.domain.identity import Policy
from workers.domain.ports import IdentityRepository, UnitOfWorkFactory
from workers.domain.renormalize import Claim, Keep, Number, Review, Share, as_mark, decide_move
from workers.domain.typed_phone import canonical_phone
from workers.services import erasure
from workers.services.evidence import address_number
from workers.services.transactions import committed


def _now() -> datetime:
    return datetime.now(UTC)


class CommandHandler:
    """Applies admin commands. `region`: the business's region, for phones typed without a
    country code (the API reads them with the same region when it checks a command);
    `hash_key`: the key of the keyed hashes that stand in for numbers (consent, erasure)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        policy: Policy,
        region: str,
        clock: Callable[[], datetime] = _now,
        *,
        hash_key: str,
    ) -> None:
        self.uow = uow
        self.policy = policy
        self.region = region
        self.clock = clock
        self.hash_key = hash_key

    def apply(self, command: Command) -> list[LinkedEvent]:
        """The command's events. Raises CommandError when it cannot apply (it names nothing that
        exists, or would break a rule such as one owner per phone): nothing of it is written,
        but the refusal and its reason are recorded under the command's outbox key, where the
        API's status route reads them. Raises TransientError when the store is unreachable."""
        try:
            return committed(self.uow, lambda store: self._apply(store, command), f"command {command.action}")
        except CommandError as exc:
            at, reason = _issued_at(command, self.clock), str(exc)
            committed(
                self.uow,
                lambda store: store.refuse_command(_outbox_key(command), reason, at),
                f"refusal of command {command.action}",
            )
            raise

    def _apply(self, store: IdentityRepository, command: Command) -> list[LinkedEvent]:
        key = _outbox_key(command)
        stored = store.outbox_get(key)
        if stored is not None:
            return [LinkedEvent.from_dict(e) for e in stored]
        at = _issued_at(command, self.clock)
        run = _Run(store, command, at, self.policy.version, self.region, self.hash_key)
        getattr(run, command.action)()
        store.outbox_put(key, None, None, events_array(e.to_json() for e in run.events), at)
        return run.events


def _outbox_key(command: Command) -> str:
    return "command:" + command.command_id


def _issued_at(command: Command, clock: Callable[[], datetime]) -> datetime:
    """When the person issued the command (so replaying commands gives the same ledger), or now."""
    if command.issued_at:
        try:
            return parse_time(command.issued_at)
        except EnvelopeError:
            pass
    return clock()


class _Run:
    def __init__(
        self,
        store: IdentityRepository,
        command: Command,
        at: datetime,
        version: str,
        region: str,
        hash_key: str,
    ) -> None:
        self.store = store
        self.command = command
        self.at = at
        self.when = utc_iso(at)
        self.version = version
        self.region = region
        self.hash_key = hash_key
        self.actor = command.ledger_actor
        self.events: list[LinkedEvent] = []

    # --- helpers -----------------------------------------------------------------------------
    def emit(self, type_: str, customer: uuid.UUID | None, data: dict[str, Any], *id_parts: str) -> None:
        """`id_parts` tell apart several events of one type from one command (one per thread)."""
        data = {
            **data,
            "actor": self.actor.partition(":")[0],
            "by": self.command.actor,
            "command_id": self.command.command_id,
        }
        self.events.append(
            make_event(type_, self.when, customer, data, "command", self.command.command_id, type_, *id_parts)
        )

    def ledger(self, action: str, **values: Any) -> None:
        self.store.ledger(
            at=self.at,
            action=action,
            actor=self.actor,
            rule=values.pop("rule", "admin_command"),
            confidence=values.pop("confidence", 1.0),
            policy_version=self.version,
            evidence={
                "command_id": self.command.command_id,
                **({"note": self.command.note} if self.command.note else {}),
                **values.pop("evidence", {}),
            },
            **values,
        )

    def _customer(self, name: str) -> uuid.UUID:
        customer = self.command.uuid(name)
        if self.store.customer(customer) is None:
            raise CommandError(f"no customer {customer}")
        if self.store.customer_erased(customer):
            raise CommandError(f"customer {customer} was erased")
        return customer

    def _identity(self) -> uuid.UUID:
        identity = self.command.uuid("identity_id")
        if not self.store.identity_exists(identity):
            raise CommandError(f"no identity {identity}")
        self._not_erased(self.store.identity_owner(identity), f"identity {identity}")
        return identity

    def _thread(self) -> uuid.UUID:
        thread = self.command.uuid("thread_id")
        if not self.store.thread_exists(thread):
            raise CommandError(f"no thread {thread}")
        self._not_erased(self.store.thread(thread).customer_id, f"thread {thread}")
        return thread

    def _not_erased(self, owner: uuid.UUID | None, what: str) -> None:
        """An erased person's identities and threads stay theirs: nothing more is decided about them."""
        if owner is not None and self.store.customer_erased(owner):
            raise CommandError(f"{what} belongs to a customer who was erased")

    def _relink_threads_of(self, identity: uuid.UUID, customer: uuid.UUID | None) -> None:
        """Threads that follow an identity (no decision of their own) follow it to its new customer."""
        # In id order: the ledger and the events then do not depend on where rows sit on disk.
        for thread in self.store.threads_of_identity(identity):
            if thread.decided_by is not None:
                continue
            self.store.link_thread(thread.id, customer)
            self.ledger(
                "thread.linked" if customer else "thread.unlinked",
                customer_id=customer,
                identity_id=identity,
                thread_id=thread.id,
                confidence=1.0 if customer else None,
            )
            self.emit(
                "thread.linked" if customer else "thread.unlinked",
                self.store.effective(customer),
                {"thread_id": str(thread.id), "customer_id": str(customer) if customer else None},
                str(thread.id),
            )

    # --- actions -----------------------------------------------------------------------------
    def link_identity(self) -> None:
        identity, customer = self._identity(), self._customer("customer_id")
        self.store.link_identity(identity, customer, 1.0, decided_by=self.actor, verification="verified")
        self.store.add_constraint("pin_link", self.actor, self.at, identity_id=identity, customer_id=customer)
        self.ledger("identity.linked", customer_id=customer, identity_id=identity)
        self.emit(
            "identity.linked",
            self.store.effective(customer),
            {
                "identity_id": str(identity),
                "customer_id": str(customer),
                "confidence": 1.0,
                "verification": "verified",
                "rule": "admin_command",
            },
        )
        self._relink_threads_of(identity, customer)

    def unlink_identity(
        self, verification: str | None = None, identity: uuid.UUID | None = None, decided: bool = True
    ) -> None:
        """`decided`: the identity itself is the person's decision (it then links nowhere by
        rule); otherwise only "never to this customer" is (see remove_phone)."""
        identity = identity or self._identity()
        previous = self.store.identity_owner(identity)
        self.store.link_identity(
            identity, None, 0.0, decided_by=self.actor if decided else None, verification=verification
        )
        if previous is not None:
            self.store.add_constraint(
                "never_link", self.actor, self.at, identity_id=identity, customer_id=previous
            )
        self.ledger("identity.unlinked", customer_id=previous, identity_id=identity, confidence=None)
        self.emit(
            "identity.unlinked",
            self.store.effective(previous),
            {"identity_id": str(identity), "customer_id": str(previous) if previous else None},
        )
        self._relink_threads_of(identity, None)

    def verify_identity(self) -> None:
        identity = self._identity()
        self.store.set_verification(identity, "verified", self.actor)
        owner = self.store.identity_owner(identity)
        self.ledger("identity.verified", customer_id=owner, identity_id=identity)
        self.emit("identity.verified", self.store.effective(owner), {"identity_id": str(identity)})

    def reject_identity(self) -> None:
        self.unlink_identity(verification="rejected")
        identity = self.command.uuid("identity_id")
        self.ledger("identity.rejected", identity_id=identity, confidence=None)
        self.emit("identity.rejected", None, {"identity_id": str(identity)})

    def link_thread(self) -> None:
        thread, customer = self._thread(), self._customer("customer_id")
        self.store.link_thread(thread, customer, decided_by=self.actor)
        self.store.add_constraint("pin_link", self.actor, self.at, thread_id=thread, customer_id=customer)
        self.ledger("thread.linked", customer_id=customer, thread_id=thread)
        self.emit(
            "thread.linked",
            self.store.effective(customer),
            {"thread_id": str(thread), "customer_id": str(customer)},
        )

    def unlink_thread(self) -> None:
        thread = self._thread()
        previous = self.store.thread(thread).customer_id
        self.store.link_thread(thread, None, decided_by=self.actor)
        if previous is not None:
            self.store.add_constraint(
                "never_link", self.actor, self.at, thread_id=thread, customer_id=previous
            )
        self.ledger("thread.unlinked", customer_id=previous, thread_id=thread, confidence=None)
        self.emit(
            "thread.unlinked", self.store.effective(previous), {"thread_id": str(thread), "customer_id": None}
        )

    def merge(self) -> None:
        survivor, merged = self._customer("survivor_id"), self._customer("merged_id")
        if self.store.effective(survivor) == self.store.effective(merged):
            raise CommandError("these customers are already one")
        # Merge whole clusters: a customer already merged elsewhere brings its survivor along.
        survivor = self.store.effective(survivor) or survivor
        merged = self.store.effective(merged) or merged
        self.store.set_merged_into(merged, survivor, self.at)
        self.ledger("customers.merged", customer_id=survivor, other_customer_id=merged)
        self.emit("customers.merged", survivor, {"survivor_id": str(survivor), "merged_ids": [str(merged)]})

    def split(self) -> None:
        """Undo a merge: the customer gets back everything it owned, including what arrived
        after the merge (rows keep their owner; only the pointer changes)."""
        customer = self._customer("customer_id")
        survivor = self.store.merged_into(customer)
        if survivor is None:
            raise CommandError(f"customer {customer} is not merged into another")
        self.store.set_merged_into(customer, None, self.at)
        self.store.add_constraint(
            "never_merge", self.actor, self.at, customer_id=customer, other_customer_id=survivor
        )
        self.ledger("customer.split", customer_id=customer, other_customer_id=survivor)
        self.emit("customer.split", customer, {"customer_id": str(customer), "survivor_id": str(survivor)})

    def _phone(self) -> str:
        """The canonical E.164 of the command's phone, read in the business's region."""
        try:
            return canonical_phone(str(self.command.params["phone"]), self.region)
        except phones.PhoneError as exc:
            raise CommandError(f"not a phone number: {exc.reason}") from exc

    def mark_shared(self) -> None:
        e164 = self._phone()
        previous = self.store.set_shared(e164, True, self.actor, self.at, phones.NORMALIZER_VERSION)
        self.store.add_constraint("shared", self.actor, self.at, e164=e164)
        self.ledger("phone.shared", customer_id=previous, e164=e164)
        self.emit("phone.shared", self.store.effective(previous), {"phone": e164})

    def unmark_shared(self) -> None:
        e164 = self._phone()
        self.store.set_shared(e164, False, self.actor, self.at, phones.NORMALIZER_VERSION)
        self.store.add_constraint("not_shared", self.actor, self.at, e164=e164)
        self.ledger("phone.unshared", e164=e164)
        self.emit("phone.unshared", None, {"phone": e164})

    def resolve_conflict(self) -> None:
        conflict = int(self.command.params["conflict_id"])
        if not self.store.resolve_conflict(conflict, self.at):
            raise CommandError(f"no conflict {conflict}")
        self.ledger("conflict.resolved", confidence=None)

    # --- a customer's details and phones (the console's Edit section) -------------------------
    def create_customer(self) -> None:
        """A customer a person created (the API chose its id), with the phone when given."""
        customer = self.command.uuid("customer_id")
        if self.store.customer_exists(customer):
            raise CommandError(f"customer {customer} exists already")
        e164 = self._phone() if self.command.text("phone") else None
        if e164 is not None:
            self._check_phone_free(e164, None)
        name, email = self.command.text("name"), self.command.text("email")
        self.store.create_customer(customer, self.at, None, None)
        self.store.set_customer_details(customer, name, email, self.actor, self.at)
        self.ledger("customer.created", customer_id=customer)
        self.emit(
            "customer.created",
            customer,
            {"customer_id": str(customer), "name": name, "email": email, "phone": e164, "source": "admin"},
        )
        if e164 is not None:
            self._give_phone(e164, customer)

    def edit_customer(self) -> None:
        """A person's name and/or email: automation never changes them afterwards."""
        customer = self.store.effective(self._customer("customer_id")) or self.command.uuid("customer_id")
        name, email = self.command.text("name"), self.command.text("email")
        self.store.set_customer_details(customer, name, email, self.actor, self.at)
        self.ledger("customer.updated", customer_id=customer)
        changed = {key: value for key, value in (("name", name), ("email", email)) if value is not None}
        self.emit("customer.updated", customer, {"customer_id": str(customer), **changed})

    def add_phone(self) -> None:
        """Give an unowned phone to the customer. A phone another customer owns never moves
        silently: the command is refused with the way out (merge, or remove it there first)."""
        customer = self.store.effective(self._customer("customer_id")) or self.command.uuid("customer_id")
        e164 = self._phone()
        self._check_phone_free(e164, customer)
        self._give_phone(e164, customer)

    def remove_phone(self) -> None:
        """Take a phone from the customer: it is unowned afterwards, and automation never gives
        it back to this customer. The identities that are the phone (its SMS and WhatsApp
        senders) leave the customer too, with their conversations, and are never linked to it
        again: the next message from that number makes a customer of its own, which its
        conversation follows. Channel identities linked through other evidence stay."""
        customer = self.store.effective(self._customer("customer_id"))
        e164 = self._phone()
        phone = self.store.phone(e164)
        if phone.owner is None or phone.owner.id != customer:
            raise CommandError("the phone is not this customer's")
        holder = self.store.release_phone(e164)
        self.ledger("phone.unlinked", customer_id=holder, e164=e164)
        self.emit(
            "phone.unlinked",
            customer,
            {"customer_id": str(holder) if holder else None, "phone": e164},
            e164,
        )
        for identity in self.store.identities_attested_by(e164):
            if self.store.effective(self.store.identity_owner(identity)) == customer:
                self.unlink_identity(identity=identity, decided=False)

    def _check_phone_free(self, e164: str, customer: uuid.UUID | None) -> None:
        """Refuse (with the way out) a phone that cannot be given to a customer. The reason
        never holds the number: it reaches logs and the dead-letter topic."""
        phone = self.store.phone(e164)
        if phone.shared:
            raise CommandError("the phone is marked shared, so it links nobody: mark it not shared first")
        if phone.owner is not None and phone.owner.id == customer:
            raise CommandError("the phone is this customer's already")
        if phone.owner is not None:
            raise CommandError(
                f"the phone belongs to customer {phone.owner.id}: merge the two customers,"
                " or remove the phone from that customer first"
            )

    def _give_phone(self, e164: str, customer: uuid.UUID) -> None:
        self.store.ensure_phone(e164, self.at, phones.NORMALIZER_VERSION)
        self.store.claim_phone(e164, customer, self.at, phones.NORMALIZER_VERSION)
        # A person said whose phone it is: the shared-phone rule does not take it away again.
        self.store.add_constraint("not_shared", self.actor, self.at, e164=e164)
        self.ledger("phone.linked", customer_id=customer, e164=e164)
        self.emit(
            "phone.linked",
            self.store.effective(customer),
            {"customer_id": str(customer), "phone": e164, "rule": "admin_command", "confidence": 1.0},
            e164,
        )

    def set_consent(self) -> None:
        """A person records consent said elsewhere (on the phone, on paper), with the reason."""
        e164 = self._phone()
        params = self.command.params
        subject = phone_key(e164, self.hash_key)
        self.store.consent(
            e164=e164,
            subject=subject,
            channel=params["channel"],
            status=params["status"],
            source="admin",
            idempotency_key="command:" + self.command.command_id,
            evidence={"command_id": self.command.command_id, "by": self.actor, "reason": params["reason"]},
            at=self.at,
        )
        owner = self.store.phone(e164).owner
        self.emit(
            "consent.changed",
            owner.id if owner else None,
            {
                "phone_key": subject,
                "phone": e164,
                "channel": params["channel"],
                "status": params["status"],
                "source": "admin",
                "keyword": None,
            },
        )

    def erase_customer(self) -> None:
        """Forget a person: the customer and every customer merged with it (one person is the
        whole cluster). See workers/adapters/erasure.py for what each row becomes and
        workers/services/fence.py for why it does not come back."""
        cluster = erasure.cluster_to_erase(self.store, self.command.uuid("customer_id"))
        fenced = erasure.erase(self.store, cluster, self.at, self.command.command_id, self.hash_key)
        self.ledger("customer.erased", customer_id=cluster.survivor)
        self.emit(
            "customer.erased",
            cluster.survivor,
            {
                "customer_id": str(cluster.survivor),
                "erased_ids": [str(m) for m in cluster.members],
                "thread_ids": [str(t.id) for t in cluster.threads],
                "fence": fenced,
            },
        )

    # --- system actions ----------------------------------------------------------------------
    def renormalize(self) -> None:
        """Read stored channel addresses again with the current normalizer (the command names
        the version it was planned with, so workers not upgraded yet refuse it rather than
        re-read with the old one), move each to its new number, and carry the old number's
        standing over as workers/domain/renormalize.py decides: never a silent merge."""
        version = str(self.command.params["version"])
        if version != phones.NORMALIZER_VERSION:
            raise CommandError(
                f"planned with normalizer {version}, but this resolver runs {phones.NORMALIZER_VERSION}:"
                " upgrade the workers, then run phoneunify renormalize again"
            )
        for item in self.command.params["addresses"]:
            channel, address = str(item["channel"]), str(item["address"])
            stored = self.store.channel_address(channel, address)
            if stored is None:
                continue  # gone since it was planned
            try:
                new = address_number(channel, address, self.region)
            except phones.PhoneError:
                continue  # the new normalizer refuses it: left as it was, the dry run says why
            self.store.ensure_phone(new, self.at, version)
            self.store.readdress(channel, address, new, version)
            if new != stored[0]:
                self._carry(stored[0], new, channel)

    def _number(self, e164: str) -> Number:
        phone = self.store.phone(e164)
        return Number(
            owner=phone.owner.id if phone.owner else None,
            holder=phone.holder,
            shared=phone.shared,
            mark=as_mark(self.store.phone_mark(e164)),
            released_from=phone.released_from,
        )

    def _carry(self, old: str, new: str, channel: str) -> None:
        """What the old number had, the new one gets (or a person is asked), consent included."""
        rule = f"normalizer:{phones.NORMALIZER_VERSION}"
        proof = {"channel": channel, "previous_phone_key": phone_key(old, self.hash_key)}
        before = self._number(old)
        move = decide_move(before, self._number(new))
        self.ledger("phone.renormalized", rule=rule, customer_id=before.holder, e164=new, evidence=proof)
        for signal in self.store.consent_signals(old):
            self.store.consent(
                e164=new,
                subject=phone_key(new, self.hash_key),
                identity_id=signal.get("identity_id"),
                channel=signal["channel"],
                status=signal["status"],
                source=signal["source"],
                keyword=signal["keyword"],
                idempotency_key=f"renormalize:{phone_key(new, self.hash_key)}:"
                + (
                    signal["idempotency_key"]
                    or f"{signal['channel']}:{signal['status']}:{signal['at'].isoformat()}"
                ),
                evidence={**proof, "carried": signal["evidence"]},
                at=signal["at"],
            )
        if move.carry_mark is not None:
            self.store.add_constraint(move.carry_mark, self.actor, self.at, e164=new)
        match move.decision:
            case Claim(holder=holder):
                self.store.claim_phone(new, holder, self.at, phones.NORMALIZER_VERSION)
                self.ledger("phone.linked", rule=rule, customer_id=holder, e164=new, evidence=proof)
                self.emit(
                    "phone.linked",
                    self.store.effective(holder),
                    {"customer_id": str(holder), "phone": new, "rule": rule, "confidence": 1.0},
                    new,
                )
            case Share():
                self.store.set_shared(new, True, self.actor, self.at, phones.NORMALIZER_VERSION)
                self.ledger("phone.shared", rule=rule, e164=new, evidence=proof)
                self.emit("phone.shared", None, {"phone": new, "rule": rule}, new)
            case Review(kind=kind, customer_id=customer, other_customer_id=other):
                self.store.conflict(
                    kind=kind,
                    customer_id=customer,
                    other_customer_id=other,
                    e164=new,
                    confidence=1.0,
                    evidence=proof,
                    created_at=self.at,
                )
                self.ledger(
                    "conflict.recorded", rule=kind, customer_id=customer, other_customer_id=other, e164=new
                )
                self.emit(
                    "conflict.recorded",
                    customer,
                    {
                        "kind": kind,
                        "customer_id": str(customer) if customer else None,
                        "other_customer_id": str(other) if other else None,
                        "confidence": 1.0,
                    },
                    kind,
                    new,
                )
            case Keep():
                pass
