"""The read and admin HTTP API. Reads PostgreSQL; writes nothing itself: admin decisions go to
the identity.commands topic and are applied by the resolver, the single writer of identity."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api import consent, failures, models, queries
from api.console.app import create_console
from api.cursors import CursorCodec
from api.guard import Guard, admin_of
from api.phone_input import e164_of
from api.read_routes import read_router
from api.submit import CommandSubmitter, Refused
from ingest.publisher import Publisher
from phoneunify.credentials import Credentials
from phoneunify.privacy import derive_key
from phoneunify.settings import Settings
from schema.commands import ACTIONS, SYSTEM_ACTIONS
from schema.topics import CONSENT_CHANNELS, Topics
from workers.domain.consent import PURPOSES

bearer = HTTPBearer(auto_error=False)


class CommandIn(BaseModel):
    action: str = Field(description="One of: " + ", ".join(a for a in ACTIONS if a not in SYSTEM_ACTIONS))
    params: dict[str, Any]
    note: str | None = Field(
        default=None,
        max_length=500,
        description="Free text for the ledger beside the actor (why, a ticket number).",
    )
    actor: str | None = Field(
        default=None,
        description="Refused: the actor is the name of the credential that sent the command.",
    )


def create_app(
    settings: Settings, engine: Engine, commands: Publisher, registry: CollectorRegistry
) -> FastAPI:
    app = FastAPI(
        title="phoneunify API",
        version="1",
        description="One customer per phone number, one timeline per customer.",
    )
    topics = Topics(settings.topic_prefix)
    requests_total = Counter(
        "phoneunify_api_requests_total",
        "API requests by route and status.",
        ["route", "status"],
        registry=registry,
    )
    latency = Histogram(
        "phoneunify_api_request_seconds", "API latency by route.", ["route"], registry=registry
    )
    # Authentication and the body cap run before FastAPI reads anything (api/guard.py); added
    # before `observe`, so that middleware, outside it, still counts the guard's refusals.
    credentials = Credentials(settings.api_tokens)
    app.add_middleware(Guard, credentials=credentials, max_body_bytes=settings.api_max_body_bytes)
    failures.install(app)
    cursors = CursorCodec(derive_key(settings.phone_hash_key, "api cursor"))
    submitter = CommandSubmitter(engine, commands, topics, settings.default_region, settings.phone_hash_key)

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        name = getattr(route, "path", "unmatched")
        requests_total.labels(name, str(response.status_code)).inc()
        latency.labels(name).observe(time.perf_counter() - started)
        return response

    def authorized(
        request: Request,
        presented: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        """The name of the credential the guard authenticated: the admin, as the ledger records
        them. (`bearer` is here for the OpenAPI document: the guard has checked the token.)"""
        name = admin_of(request.scope)
        if name is None:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        return name

    # A default, not an Annotated alias: postponed annotations cannot see this closure.
    auth = Depends(authorized)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        where = "; ".join(".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors())
        return JSONResponse({"error": where}, status_code=400)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def redirect_to(request: Request, survivor: uuid.UUID, view: str) -> RedirectResponse:
        """308 keeps the method and the query (limit, cursor) on the way to the survivor."""
        target = request.url.replace(path=f"/api/v1/customers/{survivor}/{view}")
        return RedirectResponse(str(target), status_code=308)

    errors: dict[int | str, dict[str, Any]] = {
        400: {"model": models.Error},
        401: {"model": models.Error},
        404: {"model": models.Error},
    }
    redirects: dict[int | str, dict[str, Any]] = {
        **errors,
        308: {"description": "The customer was merged: the Location header names the survivor's URL."},
    }

    @app.get(
        "/api/v1/customers/{customer_id}/timeline",
        response_model=models.Timeline,
        response_model_exclude_unset=True,
        responses={**redirects, 410: {"model": models.Error, "description": "The customer was erased."}},
    )
    def timeline(
        customer_id: uuid.UUID,
        request: Request,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query(max_length=512)] = None,
        include_status: bool = False,
        include_superseded: bool = False,
        who: str = auth,
    ) -> Any:
        """The customer's unified timeline across every channel, oldest first by the time each
        event happened (not when it arrived), one page at a time."""
        after = cursors.requested(cursor)
        with engine.connect() as conn:
            survivor = queries.survivor_of(conn, customer_id)
            if survivor is None:
                raise HTTPException(404, f"no customer {customer_id}")
            if queries.erased(conn, survivor):
                raise HTTPException(410, f"customer {customer_id} was erased")
            if survivor != customer_id:
                return redirect_to(request, survivor, "timeline")
            ids = queries.members(conn, survivor)
            items, next_cursor = queries.timeline_page(
                conn, ids, limit, after, include_status, include_superseded
            )
            return {
                "customer": queries.customer_card(conn, survivor, settings.phone_hash_key, ids=ids),
                "social_identities": queries.identities_of(conn, ids),
                "conversations": items,
                "stats": queries.stats(conn, ids),
                "next_cursor": cursors.next_page(next_cursor),
            }

    @app.get("/api/v1/consent", response_model=models.ConsentAnswer, responses=errors)
    def consent_for(
        phone: Annotated[str, Query(min_length=1, max_length=64)],
        channel: Annotated[str, Query(description="One of: " + ", ".join(CONSENT_CHANNELS))],
        purpose: Annotated[
            str, Query(description="marketing (the default, the strict rule) or transactional")
        ] = "marketing",
        who: str = auth,
    ) -> dict[str, Any]:
        """May the business text this number on this channel, for this purpose? The current
        consent status (opted_in, opted_out or unknown), since when, the evidence and the rule
        that decided (docs/api.md, Consent). Unknown is not yes for marketing."""
        if channel not in CONSENT_CHANNELS:
            raise HTTPException(400, f"channel must be one of {', '.join(CONSENT_CHANNELS)}")
        if purpose not in PURPOSES:
            raise HTTPException(400, f"purpose must be one of {', '.join(PURPOSES)}")
        e164 = e164_of(phone, settings.default_region)
        with engine.connect() as conn:
            owner, _shared = queries.customer_by_phone(conn, e164)
            ids = queries.members(conn, owner) if owner is not None else []
            return consent.answer(conn, e164, channel, purpose, ids, settings.phone_hash_key)

    @app.get("/api/v1/customers/{customer_id}/ledger", response_model=models.Ledger, responses=redirects)
    def ledger(customer_id: uuid.UUID, request: Request, who: str = auth) -> Any:
        """Every identity decision about the customer (and those merged into it): actor, rule,
        confidence, evidence, policy version."""
        with engine.connect() as conn:
            survivor = queries.survivor_of(conn, customer_id)
            if survivor is None:
                raise HTTPException(404, f"no customer {customer_id}")
            if survivor != customer_id:
                return redirect_to(request, survivor, "ledger")
            return {
                "customer_id": str(survivor),
                "entries": queries.ledger_of(conn, queries.members(conn, survivor)),
            }

    @app.get("/api/v1/review/threads", response_model=models.ReviewThreads, responses=errors)
    def review_threads(limit: Annotated[int, Query(ge=1, le=500)] = 100, who: str = auth) -> dict[str, Any]:
        """Conversations no customer is linked to yet, most recently active first."""
        with engine.connect() as conn:
            return {"threads": queries.unlinked_threads(conn, limit)}

    @app.get("/api/v1/review/conflicts", response_model=models.ReviewConflicts, responses=errors)
    def review_conflicts(limit: Annotated[int, Query(ge=1, le=500)] = 100, who: str = auth) -> dict[str, Any]:
        """Open questions for a person (clashing evidence, shared phones), oldest first."""
        with engine.connect() as conn:
            return {"conflicts": queries.open_conflicts(conn, limit)}

    @app.post(
        "/api/v1/admin/commands",
        status_code=202,
        response_model=models.CommandAccepted,
        response_model_exclude_none=True,
        responses={
            **errors,
            409: {"model": models.Error},
            410: {"model": models.Error},
            503: {"model": models.Error},
        },
    )
    def admin_command(body: CommandIn, who: str = auth) -> dict[str, Any]:
        """Queue an identity decision for the resolver (the single writer of identity). 202 means
        it is on the commands topic; GET /api/v1/admin/commands/{command_id} says once applied.
        The actor is the credential's name; `note` travels beside it."""
        if body.actor is not None:
            raise HTTPException(400, "actor: the actor is your credential's name; put free text in note")
        try:
            command = submitter.submit(who, body.action, body.params, body.note or "")
        except Refused as exc:
            raise HTTPException(exc.status, exc.reason) from exc
        accepted = {"command_id": command.command_id, "action": command.action, "status": "accepted"}
        if command.action == "create_customer":
            accepted["customer_id"] = str(command.params["customer_id"])
        return accepted

    @app.get(
        "/api/v1/admin/commands/{command_id}",
        response_model=models.CommandApplied,
        response_model_exclude_none=True,
        responses=errors,
    )
    def command_status(
        command_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")], who: str = auth
    ) -> dict[str, Any]:
        """Whether the resolver applied a command and the events it produced, or refused it and
        why (status "rejected" with the reason). 404 while it is still queued."""
        outcome = submitter.outcome(command_id)
        if outcome is None:
            raise HTTPException(404, "not applied yet: still queued (or the resolver is not running)")
        body: dict[str, Any] = {"command_id": command_id, "status": outcome.status, "events": outcome.events}
        if outcome.refused is not None:
            body["reason"] = outcome.refused
        return body

    app.include_router(read_router(settings, engine, auth, cursors))
    app.mount("/console", create_console(settings, engine, submitter, credentials, cursors))
    return app
