"""The profile fetcher's cache and retry schedule in PostgreSQL (table profile_fetches).

One row per sender: when it was last seen in a message, when its profile was last settled
(fetched, or given up on), when it is due again, and the failed attempts since. It is the
fetcher's own bookkeeping, never identity: a profile reaches the identity tables only through
the resolver.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from schema import tables as t
from workers.domain.profiles import Sender

_PF = t.profile_fetches.c


def _is(sender: Sender) -> object:
    return and_(
        _PF.channel == sender.channel,
        _PF.business_account == sender.account,
        _PF.provider_user_id == sender.user_id,
    )


class PostgresSchedule:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def seen(self, senders: Sequence[Sender], now: datetime) -> None:
        """Senders seen in messages now: new ones are due at once; known ones remember the
        sighting (a profile past its TTL is fetched again only for a sender seen since)."""
        if not senders:
            return
        latest = {s.key: s for s in senders}
        rows = [
            {
                "channel": s.channel,
                "business_account": s.account,
                "provider_user_id": s.user_id,
                "thread_key": s.thread_key,
                "seen_at": now,
                "due_at": now,
                "attempts": 0,
            }
            for s in sorted(latest.values(), key=lambda s: s.key)
        ]
        statement = insert(t.profile_fetches).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["channel", "business_account", "provider_user_id"],
            set_={"seen_at": statement.excluded.seen_at, "thread_key": statement.excluded.thread_key},
        )
        with self.engine.begin() as conn:
            conn.execute(statement)

    def due(self, now: datetime, limit: int) -> list[tuple[Sender, int]]:
        """Senders due for a fetch (each with its failed attempts so far), the longest due first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(_PF.channel, _PF.business_account, _PF.provider_user_id, _PF.thread_key, _PF.attempts)
                .where(and_(_PF.due_at <= now, or_(_PF.fetched_at.is_(None), _PF.seen_at > _PF.fetched_at)))
                .order_by(_PF.due_at)
                .limit(limit)
            ).all()
        return [
            (Sender(r.channel, r.business_account, r.provider_user_id, r.thread_key), r.attempts)
            for r in rows
        ]

    def settle(self, sender: Sender, now: datetime, next_due: datetime, error: str | None = None) -> None:
        """Fetched (or given up on, with the error): not due again before `next_due`."""
        self._update(sender, fetched_at=now, due_at=next_due, attempts=0, last_error=error)

    def retry_later(self, sender: Sender, attempts: int, next_due: datetime, error: str) -> None:
        self._update(sender, due_at=next_due, attempts=attempts, last_error=error)

    def _update(self, sender: Sender, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(t.profile_fetches).where(_is(sender)).values(**values))  # type: ignore[arg-type]
