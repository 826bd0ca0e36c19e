"""Writing a batch of projected rows in one transaction, idempotently."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert

from schema import tables as t
from workers.timeline.projection import Reproject, Row


def write_batch(engine: Engine, rows: Sequence[Row], reprojections: Sequence[Reproject]) -> int:
    """Insert rows (a redelivered row is skipped by its idempotency key), then re-project
    threads. Returns the number of new rows. A row of an unlinked thread takes the thread's
    current customer, so a back-link that overtook its earlier message still holds."""
    inserted = 0
    with engine.begin() as conn:
        if rows:
            thread_owner = (
                select(t.threads.c.customer_id)
                .where(t.threads.c.id == t.timeline_events.c.thread_id)
                .scalar_subquery()
            )
            stmt = (
                insert(t.timeline_events)
                .values([r.values for r in rows])
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(t.timeline_events.c.id)
            )
            new_ids = [row_id for (row_id,) in conn.execute(stmt)]
            inserted = len(new_ids)
            if new_ids:
                conn.execute(
                    update(t.timeline_events)
                    .where(
                        and_(t.timeline_events.c.id.in_(new_ids), t.timeline_events.c.customer_id.is_(None))
                    )
                    .values(customer_id=func.coalesce(thread_owner, None))
                )
        for rp in reprojections:
            condition = t.timeline_events.c.thread_id == rp.thread_id
            if rp.only_unlinked:
                condition = and_(condition, t.timeline_events.c.customer_id.is_(None))
            conn.execute(update(t.timeline_events).where(condition).values(customer_id=rp.customer_id))
    return inserted
