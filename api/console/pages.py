"""The console's pages: search, customer, why-linked, review queue, conversation, merge
confirmation, and the form every decision is sent with (then its progress page)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from api import queries, search
from api.console import reads, views
from api.console.base import Console, form_fields
from api.cursors import CursorCodec
from api.phone_input import canonical_phone
from api.submit import CommandSubmitter, Refused
from phoneunify.settings import Settings
from schema.commands import ACTIONS, OPTIONAL
from workers.domain import phones

log = logging.getLogger(__name__)

SEARCH_PAGE = 20
TIMELINE_PAGE = 200
THREAD_PAGE = 200
REVIEW_ITEMS = 50
MAX_NOTE = 500


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def summary(conn: Connection, customer_id: uuid.UUID) -> dict[str, Any] | None:
    """A customer (after merges) as lists and confirmations show one: card, identities, size."""
    survivor = queries.survivor_of(conn, customer_id)
    if survivor is None:
        return None
    ids = queries.members(conn, survivor)
    return {
        **queries.customer_card(conn, survivor, ids=ids, with_consent=False),
        "identities": queries.identities_of(conn, ids),
        "size": reads.timeline_size(conn, ids),
    }


def page_routes(
    console: Console, settings: Settings, engine: Engine, submitter: CommandSubmitter, cursors: CursorCodec
) -> APIRouter:
    router = APIRouter()
    region = settings.default_region

    def _cursor(value: str) -> queries.Cursor | None:
        """A page position from a link this console made; a bad one starts from the top."""
        try:
            return cursors.decode(value) if value else None
        except ValueError:
            return None

    def not_found(request: Request, what: str) -> Response:
        return console.problem(request, 404, f"No such {what}", f"There is no {what} with that id.")

    def gone(request: Request) -> Response:
        return console.problem(
            request,
            410,
            "Customer erased",
            "This person's data was erased at their request (docs/privacy.md).",
        )

    def survivor_or_answer(
        conn: Connection,
        request: Request,
        customer_id: str,
        moved: Callable[[uuid.UUID], Response],
        *,
        bare: bool = False,
    ) -> uuid.UUID | Response:
        """The customer a console link names, or the answer when it names none to show: 404 (no
        such customer), 410 (erased), `moved(survivor)` (merged into the survivor). `bare` answers
        404 and 410 without a page, for the live part's polls."""
        ident = _uuid(customer_id)
        survivor = queries.survivor_of(conn, ident) if ident else None
        if survivor is None:
            return Response(status_code=404) if bare else not_found(request, "customer")
        if queries.erased(conn, survivor):
            return Response(status_code=410) if bare else gone(request)
        if survivor != ident:
            return moved(survivor)
        return survivor

    # --- search ---------------------------------------------------------------------------------
    @router.get("/")
    def search_page(request: Request, q: str = "", cursor: str = "") -> Response:
        console.admin(request)
        q = q.strip()[: search.MAX_QUERY]
        after = _cursor(cursor)
        with engine.connect() as conn:
            found, next_cursor = search.search(conn, q, region, SEARCH_PAGE, after)
            results = [
                {**(summary(conn, f.customer_id) or {}), "last_active_at": f.last_active_at.isoformat()}
                for f in found
            ]
            shared = None
            try:
                shared = reads.shared_phone(conn, canonical_phone(q, region)) if q else None
            except phones.PhoneError:
                shared = None
        return console.page(
            request,
            "search.html",
            {
                "q": q,
                "results": results,
                "next_cursor": cursors.next_page(next_cursor),
                "paged": after is not None,
                "shared": shared,
                "back": str(request.url.path) + (f"?q={quote(q)}" if q else ""),
            },
        )

    # --- customer -------------------------------------------------------------------------------
    def customer_context(
        conn: Connection, survivor: uuid.UUID, before: queries.Cursor | None
    ) -> dict[str, Any]:
        ids = queries.members(conn, survivor)
        card = queries.customer_card(conn, survivor, settings.phone_hash_key, ids=ids)
        items, earlier = queries.timeline_before(conn, ids, TIMELINE_PAGE, before)
        consent: dict[str, list[dict[str, Any]]] = {}
        for status in card["consent"]:
            consent.setdefault(status["phone"], []).append(status)
        return {
            "customer": card,
            "identities": queries.identities_of(conn, ids),
            "items": items,
            "earlier": cursors.next_page(earlier),
            "stats": queries.stats(conn, ids),
            "threads": reads.threads_of(conn, ids),
            "phone_channels": reads.phone_channels(conn, card["phones"]),
            "consent": consent,
            "channels": sorted({i["channel"] for i in items if i["type"] not in ("identity", "consent")}),
            "version": reads.timeline_version(conn, ids),
            "live": before is None,
            "back": f"{views.CONSOLE}/customers/{survivor}",
        }

    @router.get("/customers/new")
    def new_customer_page(request: Request) -> Response:
        console.admin(request)
        return console.page(request, "new_customer.html", {"back": f"{views.CONSOLE}/"})

    @router.get("/customers/{customer_id}")
    def customer_page(request: Request, customer_id: str, before: str = "") -> Response:
        console.admin(request)

        def moved(survivor: uuid.UUID) -> Response:
            target = request.url.replace(path=f"{views.CONSOLE}/customers/{survivor}")
            return RedirectResponse(str(target), status_code=303)

        with engine.connect() as conn:
            survivor = survivor_or_answer(conn, request, customer_id, moved)
            if isinstance(survivor, Response):
                return survivor
            context = customer_context(conn, survivor, _cursor(before))
        return console.page(request, "customer.html", context)

    @router.get("/customers/{customer_id}/live")
    def customer_live(request: Request, customer_id: str, v: str = "") -> Response:
        """The live part of the customer page, when it changed since version `v`: 204 when not,
        JSON {version, html} when it did, {redirect} when the customer was merged away."""
        admin = console.admin(request)
        with engine.connect() as conn:
            survivor = survivor_or_answer(
                conn,
                request,
                customer_id,
                lambda survivor: JSONResponse({"redirect": f"{views.CONSOLE}/customers/{survivor}"}),
                bare=True,
            )
            if isinstance(survivor, Response):
                return survivor
            if reads.timeline_version(conn, queries.members(conn, survivor)) == v:
                return Response(status_code=204)
            context = customer_context(conn, survivor, None)
        html = console.templates.get_template("_customer_live.html").render(
            {**context, "admin": admin, "csrf": admin.csrf, "request": request}
        )
        return JSONResponse({"version": context["version"], "html": html})

    @router.get("/customers/{customer_id}/why")
    def why_page(request: Request, customer_id: str) -> Response:
        console.admin(request)
        with engine.connect() as conn:
            survivor = survivor_or_answer(
                conn,
                request,
                customer_id,
                lambda survivor: RedirectResponse(
                    f"{views.CONSOLE}/customers/{survivor}/why", status_code=303
                ),
            )
            if isinstance(survivor, Response):
                return survivor
            ids = queries.members(conn, survivor)
            card = queries.customer_card(conn, survivor, ids=ids, with_consent=False)
            entries = queries.ledger_of(conn, ids)
            identities = reads.all_identities(conn, ids)
        groups = []
        explained: set[int] = set()
        for identity in identities:
            mine = [e for e in entries if e["identity_id"] == identity["id"]]
            explained.update(e["seq"] for e in mine)
            groups.append({"kind": "identity", "identity": identity, "entries": mine})
        for phone in card["phones"]:
            mine = [e for e in entries if e["phone"] == phone]
            explained.update(e["seq"] for e in mine)
            groups.append({"kind": "phone", "phone": phone, "entries": mine})
        others = [e for e in entries if e["seq"] not in explained]
        return console.page(
            request,
            "why.html",
            {"customer": card, "groups": groups, "others": others, "back": request.url.path},
        )

    # --- review queue ---------------------------------------------------------------------------
    @router.get("/review")
    def review_page(request: Request) -> Response:
        console.admin(request)
        with engine.connect() as conn:
            threads = queries.unlinked_threads(conn, REVIEW_ITEMS)
            conflicts = queries.open_conflicts(conn, REVIEW_ITEMS)
            senders = queries.identities_by_id(
                conn, [uuid.UUID(c["identity_id"]) for c in conflicts if c["identity_id"]]
            )
            for conflict in conflicts:
                sender = _uuid(conflict["identity_id"] or "")
                conflict["sender"] = senders.get(sender) if sender else None
                conflict["sides"] = [
                    side
                    for key in ("customer_id", "other_customer_id")
                    if conflict[key] and (side := summary(conn, uuid.UUID(conflict[key])))
                ]
        return console.page(
            request,
            "review.html",
            {"threads": threads, "conflicts": conflicts, "back": f"{views.CONSOLE}/review"},
        )

    # --- one conversation -----------------------------------------------------------------------
    @router.get("/threads/{thread_id}")
    def thread_page(request: Request, thread_id: str, q: str = "", cursor: str = "") -> Response:
        console.admin(request)
        ident = _uuid(thread_id)
        q = q.strip()[: search.MAX_QUERY]
        with engine.connect() as conn:
            thread = queries.thread_card(conn, ident) if ident else None
            if thread is None or ident is None:
                return not_found(request, "conversation")
            if thread["customer_id"] and queries.erased(conn, uuid.UUID(thread["customer_id"])):
                return gone(request)
            messages, next_cursor = queries.thread_messages(conn, ident, THREAD_PAGE, _cursor(cursor))
            owner = summary(conn, uuid.UUID(thread["customer_id"])) if thread["customer_id"] else None
            candidates = []
            if q:
                found, _ = search.search(conn, q, region, SEARCH_PAGE, None)
                candidates = [s for f in found if (s := summary(conn, f.customer_id))]
        return console.page(
            request,
            "thread.html",
            {
                "thread": thread,
                "messages": messages,
                "next_cursor": cursors.next_page(next_cursor),
                "owner": owner,
                "q": q,
                "candidates": candidates,
                "back": f"{views.CONSOLE}/threads/{ident}",
            },
        )

    # --- merge ----------------------------------------------------------------------------------
    @router.get("/customers/{customer_id}/merge")
    def merge_choose(request: Request, customer_id: str, q: str = "") -> Response:
        """Pick the other customer of a merge (the next page asks which one survives)."""
        console.admin(request)
        ident = _uuid(customer_id)
        q = q.strip()[: search.MAX_QUERY]
        with engine.connect() as conn:
            this = summary(conn, ident) if ident else None
            if this is None:
                return not_found(request, "customer")
            candidates = []
            if q:
                found, _ = search.search(conn, q, region, SEARCH_PAGE, None)
                candidates = [
                    s
                    for f in found
                    if f.customer_id != uuid.UUID(this["id"]) and (s := summary(conn, f.customer_id))
                ]
        return console.page(request, "merge_choose.html", {"this": this, "q": q, "candidates": candidates})

    @router.get("/merge")
    def merge_confirm(request: Request, survivor: str = "", merged: str = "", back: str = "") -> Response:
        """Both customers side by side with their timelines' sizes; the admin confirms which one
        survives (the other's id then redirects to it until a split)."""
        console.admin(request)
        keep, fold = _uuid(survivor), _uuid(merged)
        with engine.connect() as conn:
            kept = summary(conn, keep) if keep else None
            folded = summary(conn, fold) if fold else None
        if kept is None or folded is None:
            return not_found(request, "customer")
        if kept["id"] == folded["id"]:
            return console.problem(request, 400, "Nothing to merge", "These are already one customer.")
        return console.page(
            request,
            "merge.html",
            {
                "kept": kept,
                "folded": folded,
                "back": views.local_path(back, f"{views.CONSOLE}/customers/{kept['id']}"),
            },
        )

    # --- decisions ------------------------------------------------------------------------------
    @router.post("/commands")
    async def send_command(request: Request) -> Response:
        form = await form_fields(request)
        admin = console.checked_form(request, form)
        action = form.get("action", "")
        params = {name: form.get(name, "").strip() for name in ACTIONS.get(action, ())}
        # Optional fields left empty are not given (an edit of the email alone keeps the name).
        params |= {name: value for name in OPTIONAL.get(action, ()) if (value := form.get(name, "").strip())}
        note = form.get("note", "").strip()[:MAX_NOTE]
        back = views.local_path(form.get("back"))
        try:
            command = await _in_thread(submitter.submit, admin.name, action, params, note)
        except Refused as exc:
            return console.problem(request, exc.status, "Not sent", exc.reason, back=back)
        # Who sent what, for the operator's log: never the parameters (a phone may be one).
        log.info("console: %s sent %s (command %s)", admin.name, command.action, command.command_id)
        if command.action == "create_customer":  # Back leads to the customer it creates
            back = f"{views.CONSOLE}/customers/{command.params['customer_id']}"
        query = urlencode({"action": command.action, "back": back})
        return RedirectResponse(f"{views.CONSOLE}/commands/{command.command_id}?{query}", status_code=303)

    @router.get("/commands/{command_id}")
    def command_page(request: Request, command_id: str, back: str = "", action: str = "") -> Response:
        console.admin(request)
        if _uuid(command_id) is None:
            return not_found(request, "command")
        outcome = submitter.outcome(command_id)
        return console.page(
            request,
            "command.html",
            {
                "command_id": command_id,
                "action": action if action in ACTIONS else "",
                "outcome": outcome,
                "back": views.local_path(back),
            },
        )

    @router.get("/commands/{command_id}/status")
    def command_status(request: Request, command_id: str) -> Response:
        console.admin(request)
        if _uuid(command_id) is None:
            return Response(status_code=404)
        outcome = submitter.outcome(command_id)
        return JSONResponse(
            {
                "applied": outcome is not None and outcome.refused is None,
                "refused": outcome.refused if outcome is not None else None,
                "events": outcome.events if outcome is not None else [],
            }
        )

    return router


async def _in_thread(function: Any, *args: Any) -> Any:
    """Publishing waits for the broker: off the event loop, as FastAPI runs sync routes."""
    return await run_in_threadpool(function, *args)
