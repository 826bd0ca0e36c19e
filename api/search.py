"""Finding customers by what an admin remembers of them: a phone in any format, part of a number,
a name, an email, a handle or a channel's user id; or, with nothing typed, the most recently
active customers. One page at a time, most recently active first.

What a query matches:
- text that reads as a phone (digits and phone punctuation only, at least 4 digits): the owner
  of the number it normalizes to, and every customer with a number containing those digits
  ("555-1234" finds +19165551234), and a channel's user id equal to it (a Messenger PSID is digits);
- anything else: names and emails containing it, handles and profile names containing it (with
  or without its leading @), and a channel's user id equal to it.
Merged customers are found as their survivor; erased customers are not found. A customer's last
activity is the latest message on any of its threads (those of customers merged into it
included), or when it was created if it has none yet.

Every search reads the customers table once to follow merges (a recursive query): fine for a
business's customers, and the place for a stored last-activity column if that ever grows large.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from api.phone_input import canonical_phone
from api.queries import Cursor
from workers.domain import phones

MAX_QUERY = 200
_PHONEISH = re.compile(r"[\d\s()+.\-/]+")


@dataclass(frozen=True)
class Found:
    customer_id: uuid.UUID
    last_active_at: datetime


_MATCHES_TEXT = """
    SELECT id FROM customers WHERE name ILIKE :like ESCAPE '\\' OR email ILIKE :like ESCAPE '\\'
    UNION
    SELECT customer_id FROM identities WHERE customer_id IS NOT NULL
      AND (handle ILIKE :handle ESCAPE '\\' OR display_name ILIKE :like ESCAPE '\\'
           OR provider_user_id = :exact)
"""
_MATCHES_PHONE = """
    SELECT customer_id FROM phones WHERE customer_id IS NOT NULL
      AND (e164 = :e164 OR e164 LIKE :digits)
    UNION
    SELECT customer_id FROM identities WHERE customer_id IS NOT NULL AND provider_user_id = :exact
"""
_MATCHES_ALL = "SELECT id FROM customers"

_SEARCH = """
WITH RECURSIVE root(id, survivor) AS (
    SELECT id, id FROM customers WHERE merged_into IS NULL AND erased_at IS NULL
  UNION ALL
    SELECT c.id, r.survivor FROM customers c JOIN root r ON c.merged_into = r.id
),
chosen AS (
    SELECT DISTINCT r.survivor AS id FROM root r JOIN ({matches}) hit(id) ON hit.id = r.id
),
activity AS (
    SELECT ch.id, coalesce(max(th.last_message_at), min(c.created_at)) AS active
    FROM chosen ch
    JOIN root r ON r.survivor = ch.id
    JOIN customers c ON c.id = ch.id
    LEFT JOIN threads th ON th.customer_id = r.id
    GROUP BY ch.id
)
SELECT id, active FROM activity
WHERE CAST(:after_time AS timestamptz) IS NULL
   OR (active, id) < (CAST(:after_time AS timestamptz), CAST(:after_id AS uuid))
ORDER BY active DESC, id DESC
LIMIT :limit
"""


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(query: str, region: str) -> tuple[str, dict[str, Any]]:
    """The SQL that selects the ids of the customers a query matches, and its parameters."""
    query = query.strip()[:MAX_QUERY]
    if not query:
        return _MATCHES_ALL, {}
    digits = "".join(ch for ch in query if ch.isdigit())
    if _PHONEISH.fullmatch(query) and len(digits) >= 4:
        try:
            e164: str | None = canonical_phone(query, region)
        except phones.PhoneError:
            e164 = None
        return _MATCHES_PHONE, {"e164": e164, "digits": f"%{digits}%", "exact": query}
    return _MATCHES_TEXT, {"like": _like(query), "handle": _like(query.lstrip("@")), "exact": query}


def search(
    conn: Connection, query: str, region: str, limit: int, after: Cursor | None
) -> tuple[list[Found], Cursor | None]:
    """One page of matching customers, most recently active first; the cursor of the next page."""
    matches, params = _matches(query, region)
    rows = conn.execute(
        text(_SEARCH.format(matches=matches)),
        {
            **params,
            "after_time": after.occurred_at if after else None,
            "after_id": str(after.id) if after else None,
            "limit": limit + 1,
        },
    ).all()
    found = [Found(row.id, row.active) for row in rows[:limit]]
    more = len(rows) > limit
    return found, (Cursor(found[-1].last_active_at, found[-1].customer_id) if more and found else None)
