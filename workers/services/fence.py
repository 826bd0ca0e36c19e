"""Erasure sticks: what the resolver makes of a message from someone who was erased.

An erasure records a fence: the keyed hash (the subject) of each of the person's phones, thread
keys and channel identities, with the time of the erasure (the `privacy_fence` table, and the
compacted privacy.erasures topic a resolver restores it from into an empty database). A message
that began before the fence (the earlier of when it happened and when the edge received it)
from a fenced thread or channel identity, or naming a fenced number as the sender's own (the
provider attested it, or the sender typed it in the booking form), is the erased person's: it
produces nothing (no identity, no thread, no timeline entry) and is counted `erased`. A number
of theirs that a message merely mentions is not followed (that evidence is dropped); the
message stays its sender's.

A later message from a fenced subject is a new person: its identity, thread and first customer
take ids of a new generation (the natural key and the fence time), so nothing of it meets the
erased rows, and a replay into an empty database, which knows the same fence, gives it the same
ids. Pure apart from the keyed hashes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from phoneunify.privacy import identity_key, phone_key, thread_key_hash
from schema.envelopes import parse_time, utc_iso
from workers.domain.requests import ResolveRequest

# Evidence that names the sender's own number: the provider attested it, or they typed it in the form.
_OWN_NUMBER = ("attested", "form")


@dataclass(frozen=True)
class Subjects:
    """The keyed hashes of what a message comes from: its thread, its channel identity and the
    numbers its sender evidence names (e164 -> subject)."""

    thread: str
    identity: str
    phones: Mapping[str, str]

    @property
    def all(self) -> list[str]:
        return [self.thread, self.identity, *self.phones.values()]


def subjects_of(request: ResolveRequest, user_id: str, hash_key: str) -> Subjects:
    env = request.envelope
    return Subjects(
        thread=thread_key_hash(env.thread_key, hash_key),
        identity=identity_key(env.channel, env.business_account, user_id, hash_key),
        phones={e.e164: phone_key(e.e164, hash_key) for e in request.sender_evidence},
    )


@dataclass(frozen=True)
class Fate:
    """What the resolver does with a message: drop it (`erased`), or resolve `request` (the
    message without evidence of erased numbers it only mentions), its thread, identity and
    phones' first customer taking ids of the generation each part names (empty: the first)."""

    request: ResolveRequest
    erased: bool = False
    thread: tuple[str, ...] = ()
    identity: tuple[str, ...] = ()
    phones: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def fate(request: ResolveRequest, subjects: Subjects, fences: Mapping[str, datetime]) -> Fate:
    fenced = {s: fences[s] for s in subjects.all if s in fences}
    if not fenced:
        return Fate(request)
    env = request.envelope
    began = min(parse_time(env.occurred_at), parse_time(env.received_at))

    def before(subject: str) -> bool:
        return subject in fenced and began <= fenced[subject]

    if before(subjects.thread) or before(subjects.identity):
        return Fate(request, erased=True)
    if any(before(subjects.phones[e.e164]) for e in request.sender_evidence if e.source in _OWN_NUMBER):
        return Fate(request, erased=True)
    mentioned = {e164 for e164, subject in subjects.phones.items() if before(subject)}
    if mentioned:
        kept = tuple(e for e in request.evidence if not (e.identifies_sender and e.e164 in mentioned))
        request = replace(request, evidence=kept)

    def generation(subject: str) -> tuple[str, ...]:
        return ("after", utc_iso(fenced[subject])) if subject in fenced else ()

    return Fate(
        request,
        thread=generation(subjects.thread),
        identity=generation(subjects.identity),
        phones={e164: generation(s) for e164, s in subjects.phones.items() if e164 not in mentioned},
    )
