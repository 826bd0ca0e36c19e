"""The resolver use case: turn resolve requests into identity changes and linked events.

One unit of work per batch; inside it, messages are applied in order. The linked events a
message produced are stored with it (the outbox in `resolved_messages`), so a message that
comes back after a crash re-sends exactly the same events and changes nothing.

Requests arrive checked (an invalid one is dead-lettered when decoded), so nothing here is
poison: an exception is a bug or a store in trouble, and it fails the batch, whole.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from phoneunify.privacy import identity_key, phone_key
from schema.envelopes import RawEnvelope, idempotency_key, parse_time, utc_iso
from schema.linked import LinkedEvent, derived_id, events_array, make_event
from workers.domain import identity as rules
from workers.domain.email_choice import EmailMet
from workers.domain.identity import ThreadState
from workers.domain.model import PhoneEvidence
from workers.domain.phones import NORMALIZER_VERSION
from workers.domain.ports import (
    BatchKeys,
    ConcurrentWriteError,
    IdentityRepository,
    UnitOfWorkFactory,
    identity_lock,
    phone_lock,
    thread_lock,
)
from workers.domain.requests import ResolveRequest
from workers.services import fence
from workers.services.transactions import committed

TIMELINE_TYPES = {
    "sms": "sms",
    "whatsapp": "whatsapp",
    "instagram": "social_media",
    "messenger": "social_media",
}
PLATFORMS = {"messenger": "facebook", "booking": "booking_form"}
# What utc_iso writes: a time in this form reads back to the same text.
_CANONICAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


# Identity, thread and customer ids come back many times in a batch (and across batches for
# repeat senders): a uuid5 is a SHA-1, so they are remembered. Pure, so caching is exact.
_ids = lru_cache(maxsize=1 << 16)(derived_id)


@dataclass
class BatchResult:
    events: list[LinkedEvent] = field(default_factory=list)
    # Each event's JSON (LinkedEvent.to_json), encoded once for the outbox and for Kafka alike.
    payloads: list[bytes] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)


class Resolver:
    def __init__(self, uow: UnitOfWorkFactory, policy: rules.Policy, hash_key: str) -> None:
        self.uow = uow
        self.policy = policy
        self.hash_key = hash_key

    # --- batches -----------------------------------------------------------------------------
    def resolve_batch(self, requests: Sequence[ResolveRequest]) -> BatchResult:
        """Apply a batch in one unit of work (run again, whole, if a concurrent writer made it
        stale). Raises TransientError when the store is unreachable: nothing was written."""
        return committed(self.uow, lambda store: self._run(store, requests), f"batch of {len(requests)}")

    def _run(self, store: IdentityRepository, requests: Sequence[ResolveRequest]) -> BatchResult:
        """Lock what the batch may write, read the fence of its subjects (the locks go out with
        that read, so an erasure of them is either done or waits), then its rows at once, then
        apply it message by message."""
        result = BatchResult()
        store.lock(key for request in requests for key in _lock_keys(request))
        subjects = [
            fence.subjects_of(request, _user_id(request.envelope), self.hash_key) for request in requests
        ]
        fences = store.fences(s for each in subjects for s in each.all)
        fates = [fence.fate(request, each, fences) for request, each in zip(requests, subjects, strict=True)]
        store.prefetch(_batch_keys(fates))
        for request, fate in zip(requests, fates, strict=True):
            events, payloads, outcome = self.resolve_one(store, request, fate)
            result.events.extend(events)
            result.payloads.extend(payloads)
            result.outcomes[outcome] = result.outcomes.get(outcome, 0) + 1
        return result

    # --- one message -------------------------------------------------------------------------
    def resolve_one(
        self, store: IdentityRepository, request: ResolveRequest, fate: fence.Fate | None = None
    ) -> tuple[list[LinkedEvent], list[bytes], str]:
        """One message inside the batch's unit of work: its events, their JSON, and the outcome.
        `fate`: what the erasure fence makes of it (read here when not given)."""
        env = request.envelope
        key = env.idempotency_key
        stored = store.outbox_get(key)
        if stored is not None:
            events = [LinkedEvent.from_dict(e) for e in stored]
            return events, [e.to_json() for e in events], "redelivered"
        if fate is None:
            subjects = fence.subjects_of(request, _user_id(env), self.hash_key)
            fate = fence.fate(request, subjects, store.fences(subjects.all))
        if fate.erased:
            return [], [], "erased"  # the erased person's: nothing of it is kept
        request = fate.request

        at = parse_time(env.occurred_at)
        # The time as the topics write it: the envelope's own text, when written so already
        # (the edge writes every time that way), is not encoded again.
        when = env.occurred_at if _CANONICAL_TIME.fullmatch(env.occurred_at) else utc_iso(at)
        ctx = _Context(store, self, request, at, when, fate)
        if env.kind == "profile":
            if fate.identity and not store.identity_exists(ctx.identity_id):
                # The profile of someone erased who has not written since: it must not make
                # them again (the fetcher may still have had them due, or read an old message).
                return [], [], "erased"
            return ctx.apply_profile()
        identity = ctx.identity_id
        store.upsert_identity(
            identity,
            env.channel,
            env.business_account,
            _user_id(env),
            env.customer.handle,
            env.customer.name or (env.booking.name if env.booking else None),
            at,
        )
        store.upsert_thread(
            ctx.thread_id,
            env.thread_key,
            env.channel,
            env.business_account,
            identity,
            at,
            env.kind in ("message", "booking"),
        )
        outcome = "unlinked"
        for evidence in sorted(request.sender_evidence, key=lambda e: -e.confidence):
            outcome = ctx.apply_evidence(evidence) or outcome

        ctx.follow_identity()
        owner = store.thread(ctx.thread_id).customer_id
        effective = store.effective(owner)
        if effective is not None and outcome == "unlinked":
            outcome = "linked"
        ctx.apply_consent(effective)
        ctx.events.append(self._timeline_event(env, key, when, ctx.thread_id, owner, effective, request))
        # Each event encoded once: the same bytes go to Kafka and, as one array, to the outbox.
        payloads = [e.to_json() for e in ctx.events]
        store.outbox_put(key, ctx.thread_id, owner, events_array(payloads), at)
        return ctx.events, payloads, outcome

    def _timeline_event(
        self,
        env: RawEnvelope,
        key: str,
        when: str,
        thread_id: uuid.UUID,
        owner: uuid.UUID | None,
        effective: uuid.UUID | None,
        request: ResolveRequest,
    ) -> LinkedEvent:
        data: dict[str, Any] = {
            "idempotency_key": key,
            "thread_id": str(thread_id),
            "owner_customer_id": str(owner) if owner else None,
            "type": "booking" if env.kind == "booking" else TIMELINE_TYPES.get(env.channel, env.channel),
            "channel": env.channel,
            "platform": env.provider if env.channel == "sms" else PLATFORMS.get(env.channel, env.channel),
            "kind": env.kind,
            "direction": env.direction,
            "content": env.text,
            "sender": _sender(env),
            "attachments": list(env.attachments),
            "status": env.status,
            "refers_to": idempotency_key(env.channel, env.refers_to) if env.refers_to else None,
            "booking": _booking(env),
            "evidence": [_public_evidence(e) for e in request.evidence],
            "seen_ms": request.seen_ms,
            "received_at": env.received_at,
        }
        return make_event("timeline.event", when, effective, data, key)


@dataclass
class _Context:
    """Working state for one message inside the batch transaction."""

    store: IdentityRepository
    resolver: Resolver
    request: ResolveRequest
    at: datetime
    when: str
    fate: fence.Fate
    events: list[LinkedEvent] = field(default_factory=list)
    linked_now: bool = False
    # The message's ids and key, taken once: every path that builds a context uses them, and
    # the rules ask for them many times (plain attributes: functools.cached_property takes a
    # lock on each first read in Python 3.11, and the envelope's key is a property that formats
    # it on every read).
    identity_id: uuid.UUID = field(init=False)
    thread_id: uuid.UUID = field(init=False)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.identity_id = _identity_id(self.fate)
        self.thread_id = _thread_id(self.fate)
        self.key = self.env.idempotency_key

    @property
    def env(self) -> RawEnvelope:
        return self.request.envelope

    def emit(self, type_: str, customer: uuid.UUID | None, data: dict[str, Any], *id_parts: str) -> None:
        self.events.append(make_event(type_, self.when, customer, data, self.key, *id_parts))

    def ledger(self, action: str, rule: str, **values: Any) -> None:
        self.store.ledger(
            at=self.at,
            action=action,
            actor="rule",
            rule=rule,
            policy_version=self.resolver.policy.version,
            evidence={"idempotency_key": self.key, **values.pop("evidence", {})},
            **values,
        )

    def apply_profile(self) -> tuple[list[LinkedEvent], list[bytes], str]:
        """Who the sender is, from the provider's user-profile API (the profile fetcher): the
        identity takes the handle and name, and from then on they take part in the identity
        rules like any observed name (rule 5's name check, the claimants of a shared phone). Its
        customer takes the name by the usual rule (a real name beats an @handle, never the
        reverse). A customer whose name clashes with the profile's, linked by a rule and not
        by a person, is a question for a person: the link stays until one answers."""
        store, env = self.store, self.env
        identity = self.identity_id
        store.upsert_identity(
            identity,
            env.channel,
            env.business_account,
            _user_id(env),
            env.customer.handle,
            env.customer.name,
            self.at,
        )
        owner = store.identity_owner(identity)
        customer = store.customer(store.effective(owner))
        if customer is not None:
            name, _ = _details(env)
            store.note_customer_details(customer.id, name, None, self.at)
            renamed = store.customer(customer.id)
            if renamed is not None and renamed.name != customer.name:
                self.emit(
                    "customer.updated", customer.id, {"customer_id": str(customer.id), "name": renamed.name}
                )
            state = store.identity(identity)
            if (
                state.decided_by is None
                and not rules.names_compatible(env.customer.name, customer.name)
                and not store.open_conflict_exists("profile_name_clash", identity, None, customer.id, None)
            ):
                self._ask_about_name(customer.id, customer.name)
        self.emit(
            "identity.updated",
            customer.id if customer is not None else None,
            {
                "identity_id": str(identity),
                "thread_id": str(self.thread_id),
                "platform": env.channel,
                "handle": env.customer.handle,
                "name": env.customer.name,
                "customer_id": str(owner) if owner else None,
            },
        )
        payloads = [e.to_json() for e in self.events]
        store.outbox_put(self.key, self.thread_id, owner, events_array(payloads), self.at)
        return self.events, payloads, "profile"

    def _ask_about_name(self, customer: uuid.UUID, customer_name: str | None) -> None:
        proof = {"source": "profile", "profile_name": self.env.customer.name, "customer_name": customer_name}
        self._ask("profile_name_clash", customer, None, None, None, proof)

    def apply_evidence(self, evidence: PhoneEvidence) -> str | None:
        """Decide on one piece of evidence and apply the decision."""
        store, policy = self.store, self.resolver.policy
        identity = store.identity(self.identity_id)
        if evidence.source == "attested":
            # The address's phone row exists before we lock it, so its phone_addresses row
            # (whose foreign key takes a key-share lock) comes after our row lock, never before:
            # two writers upgrading key-share locks on one phone would deadlock.
            store.ensure_phone(evidence.e164, self.at, NORMALIZER_VERSION)
        phone = store.phone(evidence.e164)
        if identity.customer is None and phone.owner is not None and evidence.source != "attested":
            # Rule 5 may compare names: tell it who claimed this phone before.
            phone = replace(
                phone,
                claimants=store.phone_claimants(evidence.e164, phone.holder),
                not_shared=store.phone_pinned_not_shared(evidence.e164),
            )
        linked = identity.customer.id if identity.customer else None
        decision = rules.decide(evidence, identity, phone, policy, store.never_link(identity.id, linked))
        proof = _evidence_record(evidence)
        if evidence.source == "attested":
            store.record_address(
                self.env.channel, evidence.address, evidence.e164, NORMALIZER_VERSION, self.at
            )
        verification = "verified" if evidence.source == "attested" else None

        match decision:
            case rules.CreateCustomer(rule=rule):
                return self._create(evidence, identity.id, rule, verification, proof)
            case rules.LinkIdentity(customer_id=customer, rule=rule):
                # Link to the customer row that holds the phone, not the survivor it was merged
                # into: a later split then takes this identity back with the phone.
                holder = phone.holder if phone.owner is not None and phone.owner.id == customer else None
                return self._link(evidence, holder or customer, rule, verification, proof)
            case rules.AddPhone(customer_id=customer, rule=rule):
                # The phone goes to the row the identity is linked to (see LinkIdentity).
                direct = store.identity_owner(identity.id)
                target = direct if direct is not None and store.effective(direct) == customer else customer
                self._claim(evidence.e164, target)
                self.ledger(
                    "phone.linked",
                    rule,
                    confidence=evidence.confidence,
                    customer_id=target,
                    e164=evidence.e164,
                    identity_id=identity.id,
                    evidence=proof,
                )
                self.emit(
                    "phone.linked",
                    store.effective(target),
                    {
                        "customer_id": str(target),
                        "phone": evidence.e164,
                        "rule": rule,
                        "confidence": evidence.confidence,
                    },
                    evidence.e164,
                )
                return "phone_added"
            case rules.Merge(survivor_id=survivor, merged_id=merged, rule=rule):
                store.set_merged_into(merged, survivor, self.at)
                self.ledger(
                    "customers.merged",
                    rule,
                    confidence=evidence.confidence,
                    customer_id=survivor,
                    other_customer_id=merged,
                    e164=evidence.e164,
                    identity_id=identity.id,
                    evidence=proof,
                )
                self.emit(
                    "customers.merged",
                    survivor,
                    {
                        "survivor_id": str(survivor),
                        "merged_ids": [str(merged)],
                        "rule": rule,
                        "confidence": evidence.confidence,
                    },
                    str(merged),
                )
                return "merged"
            case rules.MarkShared(previous_owner_id=previous, people=people, rule=rule):
                return self._mark_shared(evidence, previous, phone.holder, people, rule, proof)
            case rules.Review(kind=kind, customer_id=customer, other_customer_id=other):
                return self._review(kind, evidence, customer, other, proof)
            case rules.NoChange(reason=reason):
                if reason == "already_linked":
                    store.raise_confidence(identity.id, evidence.confidence)
                    self._note_email(store.identity_owner(identity.id))
                    return "linked"
                return None
        return None

    def _claim(self, e164: str, customer: uuid.UUID) -> None:
        """Give the phone, unowned as this unit of work read it, to the customer. Its row was
        locked when read, or read as absent: only a writer inserting it since can own it now."""
        owner = self.store.claim_phone(e164, customer, self.at, NORMALIZER_VERSION)
        if owner != customer:
            raise ConcurrentWriteError("a phone read as unowned has an owner now")

    def _create(
        self,
        evidence: PhoneEvidence,
        identity: uuid.UUID,
        rule: str,
        verification: str | None,
        proof: dict[str, Any],
    ) -> str | None:
        store = self.store
        # The customer first created for a phone takes its id from the phone alone, so a replay
        # that meets the phone first on another channel creates the same customer. A phone that
        # comes back unowned (an admin moved it, or it was unshared) gets a fresh customer; so
        # does one whose person was erased (a new generation's id, the same in a replay).
        customer = _first_customer(evidence.e164, self.fate)
        if store.customer_exists(customer):
            customer = derived_id("customer", evidence.e164, self.key)
        name, email = _details(self.env)
        store.create_customer(customer, self.at, name, email, _email_source(self.env))
        self._claim(evidence.e164, customer)
        self.ledger(
            "customer.created",
            rule,
            confidence=evidence.confidence,
            customer_id=customer,
            e164=evidence.e164,
            identity_id=identity,
            evidence=proof,
        )
        self.emit(
            "customer.created",
            customer,
            {
                "customer_id": str(customer),
                "name": name,
                "email": email,
                "phone": evidence.e164,
                "source": self.env.channel,
            },
        )
        return self._link(evidence, customer, rule, verification, proof, created=True)

    def _note_email(self, customer: uuid.UUID | None) -> None:
        """An address given on a message of an identity already linked is weighed too: the
        customer keeps the newest of the strongest source, however it was linked."""
        _, email = _details(self.env)
        if customer is not None and email:
            self._noted(
                customer,
                self.store.note_customer_details(customer, None, email, self.at, _email_source(self.env)),
            )

    def _noted(self, customer: uuid.UUID, met: EmailMet | None) -> None:
        """Two different addresses met: the ledger keeps both, and which one the customer kept."""
        if met is None:
            return
        self.ledger(
            "customer.email",
            "newest_email_of_strongest_source",
            customer_id=customer,
            identity_id=self.identity_id,
            evidence={
                "outcome": "replaced" if met.replaced else "kept_previous",
                "email": met.seen.email,
                "source": met.seen.source,
                "observed_at": utc_iso(met.seen.at),
                "previous_email": met.previous.email,
                "previous_source": met.previous.source,
                "previous_observed_at": utc_iso(met.previous.at),
            },
        )

    def _mark_shared(
        self,
        evidence: PhoneEvidence,
        previous: uuid.UUID | None,
        holder: uuid.UUID | None,
        people: int,
        rule: str,
        proof: dict[str, Any],
    ) -> str:
        """Too many people claim this phone: from now on it links nobody (its owner keeps the
        identities and threads it has), and this identity waits for a person."""
        store = self.store
        store.set_shared(evidence.e164, True, "rule", self.at, NORMALIZER_VERSION)
        self.ledger(
            "phone.shared",
            rule,
            confidence=evidence.confidence,
            customer_id=holder,
            e164=evidence.e164,
            identity_id=self.identity_id,
            thread_id=self.thread_id,
            evidence={**proof, "people": people},
        )
        self.emit(
            "phone.shared",
            previous,
            {
                "phone": evidence.e164,
                "customer_id": str(holder) if holder else None,
                "actor": "rule",
                "rule": rule,
                "people": people,
            },
            evidence.e164,
        )
        self._review("shared_phone", evidence, previous, None, proof)
        return "shared"

    def _link(
        self,
        evidence: PhoneEvidence,
        customer: uuid.UUID | None,
        rule: str,
        verification: str | None,
        proof: dict[str, Any],
        created: bool = False,
    ) -> str:
        store = self.store
        identity = self.identity_id
        store.link_identity(identity, customer, evidence.confidence, verification=verification)
        self.linked_now = True
        if customer is not None and not created:
            name, email = _details(self.env)
            self._noted(
                customer, store.note_customer_details(customer, name, email, self.at, _email_source(self.env))
            )
        self.ledger(
            "identity.linked",
            rule,
            confidence=evidence.confidence,
            customer_id=customer,
            e164=evidence.e164,
            identity_id=identity,
            evidence=proof,
        )
        self.emit(
            "identity.linked",
            store.effective(customer),
            {
                "identity_id": str(identity),
                "customer_id": str(customer),
                "platform": self.env.channel,
                "business_account": self.env.business_account,
                "provider_user_id": _user_id(self.env),
                "handle": self.env.customer.handle,
                "name": self.env.customer.name,
                "confidence": evidence.confidence,
                "verification": verification or "unverified",
                "rule": rule,
            },
            str(identity),
        )
        return "created" if created else "linked"

    def _review(
        self,
        kind: str,
        evidence: PhoneEvidence,
        customer: uuid.UUID | None,
        other: uuid.UUID | None,
        proof: dict[str, Any] | None = None,
    ) -> str:
        proof = proof if proof is not None else _evidence_record(evidence)
        if self.store.open_conflict_exists(kind, self.identity_id, evidence.e164, customer, other):
            return "review"  # the same question already waits for a person
        self._ask(kind, customer, other, evidence.e164, evidence.confidence, proof)
        return "review"

    def _ask(
        self,
        kind: str,
        customer: uuid.UUID | None,
        other: uuid.UUID | None,
        e164: str | None,
        confidence: float | None,
        proof: dict[str, Any],
    ) -> None:
        """Record a question for a person about this message's identity: the conflict, its ledger
        entry and its event."""
        self.store.conflict(
            kind=kind,
            identity_id=self.identity_id,
            thread_id=self.thread_id,
            customer_id=customer,
            other_customer_id=other,
            e164=e164,
            confidence=confidence,
            evidence=proof,
            created_at=self.at,
        )
        self.ledger(
            "conflict.recorded",
            kind,
            confidence=confidence,
            customer_id=customer,
            other_customer_id=other,
            e164=e164,
            identity_id=self.identity_id,
            thread_id=self.thread_id,
            evidence=proof,
        )
        self.emit(
            "conflict.recorded",
            customer,
            {
                "kind": kind,
                "thread_id": str(self.thread_id),
                "identity_id": str(self.identity_id),
                "customer_id": str(customer) if customer else None,
                "other_customer_id": str(other) if other else None,
                "confidence": confidence,
            },
            kind,
            *((e164,) if e164 else ()),
        )

    def follow_identity(self) -> None:
        """A thread follows its identity's customer. Linking an unlinked thread back-links its
        earlier messages; when this message linked the identity, its other unlinked threads
        (earlier bookings from the same email, say) follow too."""
        store = self.store
        owner = store.identity_owner(self.identity_id)
        if owner is None:
            return
        current = store.thread(self.thread_id)
        if current.customer_id is None and current.decided_by is None:
            earlier = current.message_count - (1 if self.env.kind in ("message", "booking") else 0)
            started = current.first_message_at is not None and current.first_message_at < self.at
            # A thread's first message needs no back-link event, only its ledger entry.
            announce = earlier > 0 or started
            self._backlink(current, owner, earlier, current.first_message_at or self.at, self.at, announce)
        if not self.linked_now:
            return
        for thread in store.threads_of_identity(self.identity_id):
            if thread.id != self.thread_id and thread.customer_id is None and thread.decided_by is None:
                self._backlink(
                    thread,
                    owner,
                    thread.message_count,
                    thread.first_message_at or self.at,
                    thread.last_message_at or self.at,
                )

    def _backlink(
        self,
        thread: ThreadState,
        owner: uuid.UUID,
        messages: int,
        start: datetime,
        end: datetime,
        announce: bool = True,
    ) -> None:
        """Link a thread to its identity's customer; the event names the back-linked range."""
        store = self.store
        store.link_thread(thread.id, owner)
        self.ledger(
            "thread.linked",
            "thread_follows_identity",
            customer_id=owner,
            identity_id=self.identity_id,
            thread_id=thread.id,
        )
        if not announce:
            return
        self.emit(
            "thread.backlinked",
            store.effective(owner),
            {
                "thread_id": str(thread.id),
                "customer_id": str(owner),
                "from": utc_iso(start),
                "to": utc_iso(end),
                "messages": max(messages, 0),
                "through": self.key,
            },
            str(thread.id),
        )

    def apply_consent(self, effective: uuid.UUID | None) -> None:
        """Record the message's consent signal against the number it is about (the one the
        provider attested; for the booking form's opt-in, the one typed with it), or, when a
        keyword comes from someone known by no number (a WhatsApp username), against their
        channel identity. Rows carry the keyed hash of either (the subject), which is what an
        erasure keeps."""
        signal = self.request.consent
        if signal is None:
            return
        env, key = self.env, self.resolver.hash_key
        own = "form" if signal.source == "booking_form" else "attested"
        numbers = [e.e164 for e in self.request.sender_evidence if e.source == own]
        e164 = numbers[0] if numbers else None
        if e164 is None and signal.source == "booking_form":
            return  # an opt-in with no number to text is no opt-in
        subject = (
            phone_key(e164, key)
            if e164
            else identity_key(env.channel, env.business_account, _user_id(env), key)
        )
        at = parse_time(signal.at) if signal.at else self.at
        text = signal.text if signal.source == "booking_form" else env.text
        for channel in signal.channels or (env.channel,):
            # One row and one event per channel; a keyword's keep the message's own key.
            own_channel = channel == env.channel
            self.store.consent(
                e164=e164,
                subject=subject,
                identity_id=self.identity_id,
                channel=channel,
                status=signal.status,
                source=signal.source,
                keyword=signal.keyword,
                idempotency_key=self.key if own_channel else f"{self.key}#{channel}",
                evidence={"idempotency_key": self.key, "text": text},
                at=at,
            )
            # Every signal goes on the timeline, not only changes against what arrived before:
            # the events then do not depend on the order a replay reads the channels in.
            data: dict[str, Any] = {
                "phone_key": subject if e164 else None,
                "phone": e164,
                "channel": channel,
                "status": signal.status,
                "source": signal.source,
                "keyword": signal.keyword,
            }
            if e164 is None:
                data["identity_id"] = str(self.identity_id)
            self.emit("consent.changed", effective, data, *(() if own_channel else (channel,)))


def _lock_keys(request: ResolveRequest) -> list[str]:
    """What one message may write: its thread, its identity and every phone of its evidence."""
    env = request.envelope
    return [
        thread_lock(env.thread_key),
        identity_lock(env.channel, env.business_account, _user_id(env)),
        *(phone_lock(e.e164) for e in request.evidence),
    ]


def _batch_keys(fates: Sequence[fence.Fate]) -> BatchKeys:
    """The identities, threads, phones, customers and outbox keys a batch may read (nothing of
    the messages the fence drops)."""
    identities, threads, phones, customers, keys = [], [], [], [], []
    for fate in fates:
        keys.append(fate.request.envelope.idempotency_key)
        if fate.erased:
            continue
        identities.append(_identity_id(fate))
        threads.append(_thread_id(fate))
        for evidence in fate.request.sender_evidence:
            phones.append(evidence.e164)
            customers.append(_first_customer(evidence.e164, fate))
    return BatchKeys(tuple(identities), tuple(threads), tuple(phones), tuple(customers), tuple(keys))


def _identity_id(fate: fence.Fate) -> uuid.UUID:
    env = fate.request.envelope
    return _ids("identity", env.channel, env.business_account, _user_id(env), *fate.identity)


def _thread_id(fate: fence.Fate) -> uuid.UUID:
    return _ids("thread", fate.request.envelope.thread_key, *fate.thread)


def _first_customer(e164: str, fate: fence.Fate) -> uuid.UUID:
    """The customer first created for a phone takes its id from the phone alone (of the
    phone's generation: a number whose person was erased starts over with other ids)."""
    return _ids("customer", e164, *fate.phones.get(e164, ()))


def _user_id(env: RawEnvelope) -> str:
    return env.customer.id or env.customer.phone or env.customer.email or env.thread_key


def _details(env: RawEnvelope) -> tuple[str | None, str | None]:
    if env.booking is not None:
        return env.booking.name or env.customer.name, env.booking.email or env.customer.email
    name = env.customer.name or (("@" + env.customer.handle.lstrip("@")) if env.customer.handle else None)
    return name, env.customer.email


def _email_source(env: RawEnvelope) -> str:
    """Where a message's email comes from (workers/domain/email_choice.py ranks them)."""
    return "booking_form" if env.booking is not None else "channel"


def _sender(env: RawEnvelope) -> str:
    if env.direction == "out":
        return env.business.name or "business"
    if env.customer.handle:
        return "@" + env.customer.handle.lstrip("@")
    return env.customer.name or (env.booking.name if env.booking and env.booking.name else "customer")


def _booking(env: RawEnvelope) -> dict[str, Any] | None:
    if env.booking is None:
        return None
    b = env.booking
    return {
        "guests": b.guests,
        "date": b.date,
        "total": b.total,
        "notes": b.notes,
        "name": b.name,
        "email": b.email,
    }


def _evidence_record(evidence: PhoneEvidence) -> dict[str, Any]:
    return {
        "source": evidence.source,
        "rule": evidence.rule,
        "span": list(evidence.span) if evidence.span else None,
        "owner": evidence.owner,
        "confidence": evidence.confidence,
    }


def _public_evidence(evidence: PhoneEvidence) -> dict[str, Any]:
    return {**_evidence_record(evidence), "phone": evidence.e164}
