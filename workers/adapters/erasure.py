"""What an erasure makes of each row: the rules of `Repository.erase`, in one place.

A person's rows keep their ids, times, links and the decisions taken about them (who, when, by
which rule); everything that says who they are goes: names, emails, numbers, user ids, handles,
thread keys (replaced by their keyed hashes, the subjects), message texts and evidence. The
consent ledger keeps, per subject and channel, only an opt-out (a suppression row): an erased
person's opt-in is withdrawn with the rest, their opt-out is what the law asks a business to
remember.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from workers.adapters.row_cache import RowCache
from workers.adapters.rows import (
    ADDRESSES_OF_PHONE,
    CONFLICTS_PRIVATE,
    CONSENT_ROWS,
    CONSTRAINTS_PRIVATE,
    LEDGER_PRIVATE,
    OUTBOX_EVENTS,
    OUTBOX_OF_THREAD,
    PHONES,
    PROFILE_FETCHES_OF_THREAD,
    About,
    ClusterRows,
    Row,
    RowStore,
    Write,
)
from workers.adapters.write_buffer import WriteBuffer
from workers.domain.consent import current, per_channel
from workers.domain.ports import Cluster, ClusterIdentity, ClusterThread, ConcurrentWriteError, Erasure

# Evidence keys that say how a decision was taken, never who it was about: kept.
_EVIDENCE_KEPT = frozenset(
    {"idempotency_key", "command_id", "source", "rule", "owner", "confidence", "people"}
)
# Event data that names or quotes the person: cleared in the outbox's copies of their events.
_EVENT_PERSONAL = frozenset(
    {"name", "email", "phone", "handle", "content", "sender", "attachments", "booking", "evidence"}
    | {"provider_user_id", "text", "note", "reason"}
)
_EVENT_OWNERS = ("customer_id", "owner_customer_id", "survivor_id", "other_customer_id")

# subject -> the opt-outs kept for it, each {"channel", "status", "source", "keyword", "at"}
# (every phone and identity subject of the cluster; most keep none).
Suppressions = dict[str, list[dict[str, Any]]]


def cluster_of(found: ClusterRows) -> Cluster:
    """The domain's view of a cluster read from the store, sorted (replays agree)."""
    if found.survivor is None:
        raise LookupError("no such customer")
    return Cluster(
        survivor=found.survivor,
        members=tuple(sorted(found.members, key=str)),
        phones=tuple(sorted(found.phones)),
        identities=tuple(
            sorted(
                (
                    ClusterIdentity(r["id"], r["platform"], r["business_account"], r["provider_user_id"])
                    for r in found.identities
                ),
                key=lambda i: str(i.id),
            )
        ),
        threads=tuple(
            sorted((ClusterThread(r["id"], r["thread_key"]) for r in found.threads), key=lambda t: str(t.id))
        ),
    )


class Eraser:
    """One erasure inside a unit of work, over the repository's row cache and write buffer."""

    def __init__(self, store: RowStore, rows: RowCache, buffer: WriteBuffer) -> None:
        self._store = store
        self._rows = rows
        self._buffer = buffer

    def erase(self, cluster: Cluster, erasure: Erasure) -> Suppressions:
        self._lock_rows(cluster)
        if cluster_of(self._store.cluster(cluster.survivor)) != cluster:
            # A link made since the cluster was read (an admin command, which takes row locks
            # only): erasing now would leave its rows behind.
            raise ConcurrentWriteError("the person's records changed while being erased")
        members = set(cluster.members)
        self._customers(cluster, erasure)
        self._identities(cluster, erasure)
        self._threads(cluster, erasure)
        private = self._store.private_rows(
            About(
                customers=cluster.members,
                identities=[i.id for i in cluster.identities],
                threads=[t.id for t in cluster.threads],
                phones=cluster.phones,
                subjects=[*erasure.phones.values(), *erasure.identities.values()],
            )
        )
        suppressions = self._consent(cluster, erasure, private.consent)
        self._decisions(private.ledger, private.conflicts, private.constraints, erasure)
        self._outbox(cluster, members, private, erasure)
        self._phones(cluster)
        return suppressions

    # --- the keyed tables ---------------------------------------------------------------------
    def _lock_rows(self, cluster: Cluster) -> None:
        """Read for change (locked until commit) every row the erasure rewrites; the customers
        first, so an admin link to one of them waits for the erasure."""
        self._rows.load_customers(cluster.members)
        for cache, keys in (
            (self._rows.phones, cluster.phones),
            (self._rows.identities, [i.id for i in cluster.identities]),
            (self._rows.threads, [t.id for t in cluster.threads]),
        ):
            missing = cache.missing(keys)
            if missing:
                cache.loaded(missing, self._store.load(cache.spec, missing))

    def _customers(self, cluster: Cluster, erasure: Erasure) -> None:
        for customer_id in cluster.members:
            row = self._rows.customer(customer_id)
            if row is None:
                continue
            row.update(
                name=None,
                email=None,
                name_at=None,
                email_at=None,
                name_by=None,
                email_by=None,
                email_source=None,
                erased_at=erasure.at,
            )
            self._rows.customers.touch(customer_id)

    def _identities(self, cluster: Cluster, erasure: Erasure) -> None:
        for identity in cluster.identities:
            row = self._rows.row(self._rows.identities, identity.id)
            if row is None:
                continue
            # The user id is the key of the person's later messages (a new identity then, see
            # the resolver's generations): the subject, which says nothing, with the row's own id
            # (a person erased twice has two rows of one subject; the key stays unique).
            erased_id = f"{erasure.identities[identity.id]}/{identity.id}"
            row.update(provider_user_id=erased_id, handle=None, display_name=None)
            self._rows.identities.touch(identity.id)

    def _threads(self, cluster: Cluster, erasure: Erasure) -> None:
        # The profile fetcher forgets their senders: a profile fetched after the erasure must
        # not bring a name back (the resolver drops one that comes all the same).
        if cluster.threads:
            keys = [{"thread_key": t.thread_key} for t in cluster.threads]
            self._buffer.erasure.append(Write("delete", PROFILE_FETCHES_OF_THREAD, keys))
        members = set(cluster.members)
        for thread in cluster.threads:
            row = self._rows.row(self._rows.threads, thread.id)
            if row is None:
                continue
            row["thread_key"] = f"{erasure.threads[thread.id]}/{thread.id}"  # unique, as above
            # A thread of the person's identity that a person had moved to someone else is
            # theirs all the same: it goes with them (and its late messages land erased).
            if row["customer_id"] not in members:
                row["customer_id"] = cluster.survivor
            self._rows.threads.touch(thread.id)

    def _phones(self, cluster: Cluster) -> None:
        """The numbers leave the phones table (their addresses first: a foreign key)."""
        if not cluster.phones:
            return
        for e164 in cluster.phones:
            self._rows.phones.drop(e164)
        keys = [{"e164": e164} for e164 in cluster.phones]
        self._buffer.erasure += [Write("delete", ADDRESSES_OF_PHONE, keys), Write("delete", PHONES, keys)]

    # --- consent ------------------------------------------------------------------------------
    def _consent(self, cluster: Cluster, erasure: Erasure, rows: list[Row]) -> Suppressions:
        """Per phone and channel, the status the consent API gave (the phone's rows and the
        person's channel identities' own), and per identity its own: the opt-outs among them
        are what the erasure keeps (as suppression rows, written with the fence); every
        consent row of the person goes."""
        by_subject: dict[str, list[Row]] = defaultdict(list)
        subject_of_phone = erasure.phones
        for row in rows:
            by_subject[subject_of_phone.get(row["e164"]) or row["subject"]].append(row)
        identity_rows: dict[str, list[Row]] = defaultdict(list)
        for identity in cluster.identities:
            identity_rows[identity.platform] += by_subject.get(erasure.identities[identity.id], [])
        decided: Suppressions = {}
        for subject in subject_of_phone.values():
            decided[subject] = _opt_outs(per_channel(by_subject.get(subject, []), identity_rows).values())
        for identity in cluster.identities:
            subject = erasure.identities[identity.id]
            decided[subject] = _opt_outs([current(by_subject.get(subject, []))])
        if rows:
            self._buffer.erasure.append(Write("delete", CONSENT_ROWS, [{"seq": r["seq"]} for r in rows]))
        return decided

    # --- decisions and the outbox -------------------------------------------------------------
    def _decisions(
        self, ledger: list[Row], conflicts: list[Row], constraints: list[Row], erasure: Erasure
    ) -> None:
        for row in ledger:
            row.update(e164=None, evidence=scrubbed(row["evidence"]))
        for row in conflicts:
            # A question about someone who is gone is closed.
            if row["status"] == "open":
                row.update(status="resolved", resolved_at=erasure.at)
            row.update(e164=None, evidence=scrubbed(row["evidence"]))
        for row in constraints:
            row.update(e164=None, active=False)
        self._rows.open.clear()  # the open questions of any identity: read again if asked
        for spec, rows in (
            (LEDGER_PRIVATE, ledger),
            (CONFLICTS_PRIVATE, conflicts),
            (CONSTRAINTS_PRIVATE, constraints),
        ):
            if rows:
                self._buffer.erasure.append(Write("update", spec, rows))

    def _outbox(self, cluster: Cluster, members: set[uuid.UUID], private: Any, erasure: Erasure) -> None:
        """The person's messages leave the outbox (a redelivery of one is then dropped by the
        fence); other stored events that quote them (their messages on a thread now someone
        else's, the commands about their numbers) keep their shape and lose what they quoted."""
        if cluster.threads:
            self._buffer.erasure.append(
                Write("delete", OUTBOX_OF_THREAD, [{"thread_id": t.id} for t in cluster.threads])
            )
        commands = sorted(
            {
                "command:" + str(row["evidence"]["command_id"])
                for row in [*private.ledger, *private.consent]
                if isinstance(row.get("evidence"), Mapping) and row["evidence"].get("command_id")
            }
        )
        stored = {row["idempotency_key"]: row["events"] for row in private.outbox}
        stored.update(self._store.outbox(commands) if commands else {})
        phones = set(cluster.phones)
        rewritten = []
        for key, events in sorted(stored.items()):
            cleaned = [_scrub_event(event, members, phones) for event in events]
            if cleaned != events:
                rewritten.append({"idempotency_key": key, "events": cleaned})
        if rewritten:
            self._buffer.erasure.append(Write("update", OUTBOX_EVENTS, rewritten))


def scrubbed(evidence: Any) -> dict[str, Any]:
    """Evidence without what it quoted (texts, spans, numbers, notes): how, not who."""
    kept = {k: v for k, v in (evidence or {}).items() if k in _EVIDENCE_KEPT}
    return {**kept, "erased": True}


def _scrub_event(event: dict[str, Any], members: set[uuid.UUID], phones: set[str]) -> dict[str, Any]:
    data = event.get("data") or {}
    about = {str(m) for m in members}
    concerned = (
        str(event.get("customer_id")) in about
        or any(str(data.get(k)) in about for k in _EVENT_OWNERS)
        or data.get("phone") in phones
    )
    if not concerned:
        return event
    return {**event, "data": {k: (None if k in _EVENT_PERSONAL else v) for k, v in data.items()}}


def _opt_outs(decisions: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "channel": row["channel"],
            "status": row["status"],
            "source": row["source"],
            "keyword": row["keyword"],
            "at": row["at"],
        }
        for row in decisions
        if row is not None and row["status"] == "opted_out"
    ]


def suppression(subject: str, entry: Mapping[str, Any], command_id: str) -> Row:
    """The consent row an erasure keeps (the restore from the privacy.erasures topic writes the
    same one, key included)."""
    return {
        "e164": None,
        "subject": subject,
        "identity_id": None,
        "channel": entry["channel"],
        "status": entry["status"],
        "source": entry["source"],
        "keyword": entry["keyword"],
        "idempotency_key": f"suppression:{command_id}:{entry['channel']}:{subject}",
        "evidence": {"erased": True, "command_id": command_id},
        "at": entry["at"],
    }
