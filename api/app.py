"""The read and admin HTTP API. Reads PostgreSQL; writes nothing itself: admin decisions go to
the identity.commands topic and are applied by the resolver, the single writer of identity."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api import commands_check, failures, models, queries
from api.cursors import CursorCodec
from api.guard import Guard, admin_of
from api.phone_input import canonical_phone
from ingest.publisher import Publisher, PublishError, Record
from phoneunify.credentials import Credentials
from phoneunify.privacy import derive_key
from phoneunify.settings import Settings
from schema.commands import ACTIONS, SYSTEM_ACTIONS, Command, CommandError
from schema.topics import Topics
from workers.domain import phones

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
    app.add_middleware(
        Guard, credentials=Credentials(settings.api_tokens), max_body_bytes=settings.api_max_body_bytes
    )
    failures.install(app)
    cursors = CursorCodec(derive_key(settings.phone_hash_key, "api cursor"))

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
        responses=redirects,
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
        try:
            after = cursors.decode(cursor) if cursor else None
        except ValueError as exc:
            raise HTTPException(400, f"bad cursor: {exc}") from exc
        with engine.connect() as conn:
            survivor = queries.survivor_of(conn, customer_id)
            if survivor is None:
                raise HTTPException(404, f"no customer {customer_id}")
            if survivor != customer_id:
                return redirect_to(request, survivor, "timeline")
            ids = queries.members(conn, survivor)
            items, next_cursor = queries.timeline_page(
                conn, ids, limit, after, include_status, include_superseded
            )
            return {
                "customer": queries.customer_card(conn, survivor),
                "social_identities": queries.identities_of(conn, ids),
                "conversations": items,
                "stats": queries.stats(conn, ids),
                "next_cursor": cursors.encode(next_cursor) if next_cursor else None,
            }

    @app.get(
        "/api/v1/customers",
        response_model=models.CustomerLookup,
        response_model_exclude_unset=True,
        responses=errors,
    )
    def find_by_phone(
        phone: Annotated[str, Query(min_length=1, max_length=64)], who: str = auth
    ) -> dict[str, Any]:
        """The customer who owns a phone number written in any format (national, international,
        with or without punctuation)."""
        try:
            e164 = canonical_phone(phone, settings.default_region)
        except phones.PhoneError as exc:
            raise HTTPException(400, f"not a phone number: {exc.reason}") from exc
        with engine.connect() as conn:
            owner, shared = queries.customer_by_phone(conn, e164)
            if owner is None:
                if shared:
                    return {"phone": e164, "shared": True, "customers": []}
                raise HTTPException(404, "no customer has this phone")
            return {"phone": e164, "shared": False, "customers": [queries.customer_card(conn, owner)]}

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
        responses={**errors, 503: {"model": models.Error}},
    )
    def admin_command(body: CommandIn, who: str = auth) -> dict[str, Any]:
        """Queue an identity decision for the resolver (the single writer of identity). 202 means
        it is on the commands topic; GET /api/v1/admin/commands/{command_id} says once applied.
        The actor is the credential's name; `note` travels beside it."""
        if body.actor is not None:
            raise HTTPException(400, "actor: the actor is your credential's name; put free text in note")
        try:
            command = Command(
                action=body.action,
                actor=who,
                params=body.params,
                issued_at=datetime.now(UTC).isoformat(),
                note=body.note or "",
            )
            problem = commands_check.invalid_params(command, settings.default_region)
        except CommandError as exc:
            raise HTTPException(400, str(exc)) from exc
        if problem:
            raise HTTPException(400, problem)
        with engine.connect() as conn:
            missing = commands_check.missing_reference(conn, command)
        if missing:
            raise HTTPException(404, missing)
        key = commands_check.partition_key(command, settings.default_region, settings.phone_hash_key)
        try:
            commands.publish([Record(topics.commands, key, command.to_json())])
        except PublishError as exc:
            raise HTTPException(503, str(exc)) from exc
        return {"command_id": command.command_id, "action": command.action, "status": "accepted"}

    @app.get("/api/v1/admin/commands/{command_id}", response_model=models.CommandApplied, responses=errors)
    def command_status(
        command_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")], who: str = auth
    ) -> dict[str, Any]:
        """Whether the resolver applied a command, and the events it produced."""
        with engine.connect() as conn:
            events = queries.command_events(conn, command_id)
        if events is None:
            raise HTTPException(
                404, "not applied: still queued, or rejected by the resolver (see the dead-letter topic)"
            )
        return {"command_id": command_id, "status": "applied", "events": events}

    return app
