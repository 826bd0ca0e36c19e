"""Writing a batch of projected rows in one transaction, idempotently."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, and_, select, update
from sqlalchemy.dialects.postgresql import insert

from schema import tables as t
from workers.timeline.projection import Reproject, Row

# Identity and consent entries stay on the timeline of the customer their event names ("Conversation
# unlinked" belongs to the customer who lost the thread); only messages follow their thread.
IDENTITY_TYPES = ("identity", "consent")


def write_batch(engine: Engine, rows: Sequence[Row], reprojections: Sequence[Reproject]) -> int:
    """Insert rows (a redelivered row is skipped by its idempotency key), then re-project
    threads. Returns the number of new rows.

    A row's owner is its thread's current customer whenever the thread is known, because the
    writer may see a thread's link change before the thread's older messages (they were keyed
    by the old customer, or by the thread while unlinked, so they sit on other partitions).
    For the same reason a re-projection applies the thread's current customer, not the one its
    event names: two admin re-links read in reverse order still end with the later one."""
    inserted = 0
    te, th = t.timeline_events.c, t.threads.c
    with engine.begin() as conn:
        if rows:
            stmt = (
                insert(t.timeline_events)
                .values([r.values for r in rows])
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(te.id)
            )
            new_ids = [row_id for (row_id,) in conn.execute(stmt)]
            inserted = len(new_ids)
            if new_ids:
                # Writes only the rows whose thread changed hands since their event was made.
                conn.execute(
                    update(t.timeline_events)
                    .where(
                        and_(
                            te.id.in_(new_ids),
                            te.type.not_in(IDENTITY_TYPES),
                            te.thread_id == th.id,
                            te.customer_id.is_distinct_from(th.customer_id),
                        )
                    )
                    .values(customer_id=th.customer_id)
                )
        for rp in reprojections:
            known = conn.execute(select(th.customer_id).where(th.id == rp.thread_id)).first()
            owner = known.customer_id if known is not None else rp.customer_id
            condition = and_(
                te.thread_id == rp.thread_id,
                te.type.not_in(IDENTITY_TYPES),
                te.customer_id.is_distinct_from(owner),
            )
            if rp.only_unlinked:
                condition = and_(condition, te.customer_id.is_(None))
            conn.execute(update(t.timeline_events).where(condition).values(customer_id=owner))
    return inserted
