"""Finding customers and reading one conversation: `GET /api/v1/customers` (by phone, by search,
or the most recently active) and `GET /api/v1/threads/{id}/messages`. The console reads the same
query functions; integrators read these routes.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import Engine

from api import models, queries, search
from api.cursors import CursorCodec
from api.phone_input import e164_of
from phoneunify.settings import Settings

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": models.Error},
    401: {"model": models.Error},
    404: {"model": models.Error},
}


def read_router(settings: Settings, engine: Engine, auth: Any, cursors: CursorCodec) -> APIRouter:
    """The routes, each behind `auth` (the dependency that names the admin); page cursors are
    signed by `cursors`, as the timeline's are."""
    router = APIRouter()

    @router.get(
        "/api/v1/customers",
        response_model=models.CustomerLookup,
        response_model_exclude_unset=True,
        responses=_ERRORS,
    )
    def find_customers(
        phone: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        q: Annotated[str | None, Query(max_length=search.MAX_QUERY)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        who: str = auth,
    ) -> dict[str, Any]:
        """With `phone`: the customer who owns a number written in any format (national,
        international, with or without punctuation). With `q`: customers whose number, name,
        email, handle or channel user id matches, most recently active first, a page at a time.
        With neither: every customer, most recently active first."""
        if phone is not None:
            if q is not None or cursor is not None:
                raise HTTPException(400, "phone: give phone alone, or q (and cursor) to search")
            return by_phone(phone)
        after = cursors.requested(cursor)
        with engine.connect() as conn:
            found, next_cursor = search.search(conn, q or "", settings.default_region, limit, after)
            cards = [
                {
                    **queries.customer_card(conn, f.customer_id, settings.phone_hash_key),
                    "last_active_at": f.last_active_at.isoformat(),
                }
                for f in found
            ]
        return {"customers": cards, "next_cursor": cursors.next_page(next_cursor)}

    def by_phone(phone: str) -> dict[str, Any]:
        e164 = e164_of(phone, settings.default_region)
        with engine.connect() as conn:
            owner, shared = queries.customer_by_phone(conn, e164)
            if owner is None:
                if shared:
                    return {"phone": e164, "shared": True, "customers": []}
                raise HTTPException(404, "no customer has this phone")
            card = queries.customer_card(conn, owner, settings.phone_hash_key)
            return {"phone": e164, "shared": False, "customers": [card]}

    @router.get(
        "/api/v1/threads/{thread_id}/messages",
        response_model=models.ThreadMessages,
        response_model_exclude_unset=True,
        responses=_ERRORS,
    )
    def thread_messages(
        thread_id: uuid.UUID,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        who: str = auth,
    ) -> dict[str, Any]:
        """One conversation (linked or not): its channel, sender and owner, then its messages and
        bookings, oldest first, a page at a time."""
        after = cursors.requested(cursor)
        with engine.connect() as conn:
            thread = queries.thread_card(conn, thread_id)
            if thread is None:
                raise HTTPException(404, f"no thread {thread_id}")
            if thread["customer_id"] and queries.erased(conn, uuid.UUID(thread["customer_id"])):
                raise HTTPException(410, f"thread {thread_id} belongs to a customer who was erased")
            items, next_cursor = queries.thread_messages(conn, thread_id, limit, after)
        return {
            "thread": thread,
            "messages": items,
            "next_cursor": cursors.next_page(next_cursor),
        }

    return router
