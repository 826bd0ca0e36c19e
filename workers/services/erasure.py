"""Erasure: an admin's `erase_customer`, applied by the resolver like every identity decision.

One person is the whole cluster: the customer named, the customer it was merged into (if any)
and every customer merged into that one. The person's keys (threads, identities, phones) are
locked first, as a resolver batch locks them, so a message of theirs is resolved either wholly
before the erasure (and erased with the rest) or after it (and meets the fence); then the rows
are read for change and erased (workers/adapters/erasure.py says what each becomes), and the
fence is recorded: the keyed hash of every phone, thread key and identity, with the erasure's
time and the opt-outs kept (workers/services/fence.py says what the resolver does with it).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from phoneunify.privacy import identity_key, phone_key, thread_key_hash
from schema.commands import CommandError
from schema.envelopes import parse_time, utc_iso
from schema.erasures import FenceRecord
from workers.domain.ports import Cluster, Erasure, IdentityRepository, UnitOfWorkFactory
from workers.services.transactions import committed


def cluster_to_erase(store: IdentityRepository, customer_id: uuid.UUID) -> Cluster:
    """The person the customer belongs to, their keys locked. CommandError when there is no
    such customer or it was erased already."""
    try:
        cluster = store.cluster(customer_id)
    except LookupError:
        raise CommandError(f"no customer {customer_id}") from None
    store.lock(cluster.lock_keys)
    if store.customer_erased(cluster.survivor):
        raise CommandError(f"customer {customer_id} was erased")
    return cluster


def erase(
    store: IdentityRepository, cluster: Cluster, at: datetime, command_id: str, hash_key: str
) -> list[dict[str, Any]]:
    """Erase the cluster and fence its subjects; returns the fence as the customer.erased event
    carries it (each subject with its kind and the opt-outs kept), in a stable order."""
    moment = parse_time(utc_iso(at))  # the fence's time as every copy of it writes it (ms)
    subjects = Erasure(
        at=moment,
        command_id=command_id,
        phones={e164: phone_key(e164, hash_key) for e164 in cluster.phones},
        threads={t.id: thread_key_hash(t.thread_key, hash_key) for t in cluster.threads},
        identities={
            i.id: identity_key(i.platform, i.account, i.user_id, hash_key) for i in cluster.identities
        },
    )
    kept = store.erase(cluster, subjects)
    fence: list[dict[str, Any]] = []
    for kind, of_kind in (
        ("phone", subjects.phones.values()),
        ("thread", subjects.threads.values()),
        ("identity", subjects.identities.values()),
    ):
        for subject in sorted(set(of_kind)):
            opt_outs = kept.get(subject, [])
            store.fence(subject, kind, moment, command_id, opt_outs)
            fence.append(
                {
                    "subject": subject,
                    "kind": kind,
                    "opt_outs": [{**entry, "at": utc_iso(entry["at"])} for entry in opt_outs],
                }
            )
    return fence


def restore(uow: UnitOfWorkFactory, records: Iterable[FenceRecord]) -> int:
    """Write the fence and the opt-outs it keeps, as read from the privacy.erasures topic, into
    the database (the latest record of each subject; what is there already stays): a resolver
    does this before it resolves anything, so one starting on an empty database honours every
    erasure made before. Returns how many subjects the topic holds."""
    latest: dict[str, FenceRecord] = {}
    for record in records:
        known = latest.get(record.subject)
        if known is None or parse_time(record.erased_at) > parse_time(known.erased_at):
            latest[record.subject] = record

    def work(store: IdentityRepository) -> None:
        store.fences(latest)  # one read for all of them
        for record in latest.values():
            opt_outs = [{**entry, "at": parse_time(str(entry["at"]))} for entry in record.opt_outs]
            store.fence(
                record.subject, record.kind, parse_time(record.erased_at), record.command_id, opt_outs
            )

    if latest:
        committed(uow, work, "restore the erasure fence")
    return len(latest)
