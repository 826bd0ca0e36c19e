"""The read and admin HTTP API. Reads PostgreSQL; writes nothing itself: admin decisions go to
the identity.commands topic and are applied by the resolver, the single writer of identity."""

from __future__ import annotations

import hmac
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api import queries
from ingest.publisher import Publisher, PublishError, Record
from phoneunify.settings import Settings
from schema.commands import ACTIONS, Command, CommandError
from schema.topics import Topics
from workers.domain import phones

bearer = HTTPBearer(auto_error=False)


class CommandIn(BaseModel):
    action: str = Field(description="One of: " + ", ".join(ACTIONS))
    params: dict[str, Any]
    actor: str | None = None


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
    tokens = tuple(tok for tok in settings.api_tokens if tok)

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
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        for token in tokens:
            if hmac.compare_digest(credentials.credentials.encode(), token.encode()):
                return "token:" + token[:4]
        raise HTTPException(403, "unknown token")

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

    @app.get("/api/v1/customers/{customer_id}/timeline", response_model=None)
    def timeline(
        customer_id: uuid.UUID,
        request: Request,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: str | None = None,
        include_status: bool = False,
        who: str = auth,
    ) -> dict[str, Any] | RedirectResponse:
        with engine.connect() as conn:
            survivor = queries.survivor_of(conn, customer_id)
            if survivor is None:
                raise HTTPException(404, "no such customer")
            if survivor != customer_id:
                target = request.url.replace(path=f"/api/v1/customers/{survivor}/timeline")
                return RedirectResponse(str(target), status_code=308)
            try:
                after = queries.Cursor.decode(cursor) if cursor else None
            except ValueError as exc:
                raise HTTPException(400, "bad cursor") from exc
            ids = queries.members(conn, survivor)
            items, next_cursor = queries.timeline_page(conn, ids, limit, after, include_status)
            return {
                "customer": queries.customer_card(conn, survivor),
                "social_identities": queries.identities_of(conn, ids),
                "conversations": items,
                "stats": queries.stats(conn, ids),
                "next_cursor": next_cursor.encode() if next_cursor else None,
            }

    @app.get("/api/v1/customers")
    def find_by_phone(
        phone: Annotated[str, Query(min_length=1, max_length=64)], who: str = auth
    ) -> dict[str, Any]:
        try:
            e164 = phones.canonical(phones.normalize(phone, settings.default_region))
        except phones.PhoneError as exc:
            raise HTTPException(400, f"not a phone number: {exc.reason}") from exc
        with engine.connect() as conn:
            owner, shared = queries.customer_by_phone(conn, e164)
            if owner is None:
                if shared:
                    return {"phone": e164, "shared": True, "customers": []}
                raise HTTPException(404, "no customer has this phone")
            return {"phone": e164, "shared": False, "customers": [queries.customer_card(conn, owner)]}

    @app.get("/api/v1/customers/{customer_id}/ledger")
    def ledger(customer_id: uuid.UUID, who: str = auth) -> dict[str, Any]:
        with engine.connect() as conn:
            survivor = queries.survivor_of(conn, customer_id)
            if survivor is None:
                raise HTTPException(404, "no such customer")
            return {
                "customer_id": str(survivor),
                "entries": queries.ledger_of(conn, queries.members(conn, survivor)),
            }

    @app.get("/api/v1/review/threads")
    def review_threads(limit: Annotated[int, Query(ge=1, le=500)] = 100, who: str = auth) -> dict[str, Any]:
        with engine.connect() as conn:
            return {"threads": queries.unlinked_threads(conn, limit)}

    @app.get("/api/v1/review/conflicts")
    def review_conflicts(limit: Annotated[int, Query(ge=1, le=500)] = 100, who: str = auth) -> dict[str, Any]:
        with engine.connect() as conn:
            return {"conflicts": queries.open_conflicts(conn, limit)}

    @app.post("/api/v1/admin/commands", status_code=202)
    def admin_command(body: CommandIn, who: str = auth) -> dict[str, Any]:
        try:
            command = Command(
                action=body.action,
                actor=body.actor or who,
                params=body.params,
                issued_at=datetime.now(UTC).isoformat(),
            )
        except CommandError as exc:
            raise HTTPException(400, str(exc)) from exc
        key = str(
            command.params.get("customer_id") or command.params.get("identity_id") or command.command_id
        )
        try:
            commands.publish([Record(topics.commands, key, command.to_json())])
        except PublishError as exc:
            raise HTTPException(503, str(exc)) from exc
        return {"command_id": command.command_id, "action": command.action, "status": "accepted"}

    return app
