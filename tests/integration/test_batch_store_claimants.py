"""The batch store names a phone's claimants as the per-call store does after a flush, without
flushing: stored rows overlaid with what the batch changed (renamed, linked, unlinked
identities and conflicts it has not written yet)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from schema.linked import derived_id
from workers.adapters.batch_store import BatchStore
from workers.adapters.identity_store import IdentityStore

pytestmark = pytest.mark.infra

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PHONE = "+19165551234"


def _identity(store: IdentityStore, key: str, name: str, customer: uuid.UUID | None) -> uuid.UUID:
    identity = derived_id("identity", key)
    store.upsert_identity(identity, "sms", "+19165550000", key, None, name, AT)
    if customer is not None:
        store.link_identity(identity, customer, 0.9, "rule")
    return identity


def test_claimants_overlay_the_batch_on_the_stored_rows(engine: Engine) -> None:
    holder = derived_id("customer", PHONE)
    with engine.begin() as conn:
        store = BatchStore(conn)
        store.prefetch([], [], [PHONE], [holder], [])
        store.create_customer(holder, AT, "Ana", None)
        store.claim_phone(PHONE, holder, AT, "v1")
        renamed = _identity(store, "renamed", "Ana Old", holder)
        moved = _identity(store, "moved", "Bruno", holder)
        _identity(store, "kept", "Carla", holder)
        waiting = _identity(store, "waiting", "Dora", None)
        store.conflict(kind="shared_phone_candidate", identity_id=waiting, e164=PHONE, created_at=AT)
        store.flush()

    with engine.begin() as conn:
        batch = BatchStore(conn)
        batch.prefetch([renamed, moved], [], [PHONE], [holder], [])
        # Changes this batch has not written yet: a new name, an unlink, a new linked identity,
        # and a new pending conflict of an identity the batch never read.
        batch.upsert_identity(renamed, "sms", "+19165550000", "renamed", None, "Ana New", AT)
        batch.link_identity(moved, None, 0.0)
        _identity(batch, "new", "Elena", holder)
        stranger = derived_id("identity", "waiting")
        batch.conflict(kind="shared_phone", identity_id=stranger, e164=PHONE, created_at=AT)
        answered = batch.phone_claimants(PHONE, holder)

        batch.flush()
        reference = IdentityStore(conn).phone_claimants(PHONE, holder)
        conn.rollback()

    assert answered == reference == ("Ana New", "Carla", "Dora", "Elena")
