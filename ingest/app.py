"""The ingest HTTP app: composition only. No globals, no connections at import.

POST     /webhooks/twilio/sms         Twilio SMS/MMS/WhatsApp and status callbacks (form)
GET|POST /webhooks/meta/messenger     Messenger (object "page"), Meta app secret
GET|POST /webhooks/meta/instagram     Instagram (object "instagram"), Instagram app secret
GET|POST /webhooks/meta/whatsapp      WhatsApp Cloud API, Meta app secret
POST     /webhooks/ringcentral/sms    RingCentral message-store instant SMS events
POST     /webhooks/booking            the business's booking form
POST     /outbound/v1/messages        the business's sending system reports what it sent
GET      /healthz, /metrics
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ingest.async_publisher import AsyncPublisher, as_async
from ingest.edge import Adapter, Edge
from ingest.metrics import IngestMetrics
from ingest.providers import outbound
from ingest.providers.booking import BookingAdapter
from ingest.providers.meta import INSTAGRAM, MESSENGER, WHATSAPP, MetaAdapter
from ingest.providers.outbound import OutboundAdapter
from ingest.providers.ringcentral import RingCentralAdapter
from ingest.providers.twilio import TwilioAdapter
from ingest.publisher import Publisher
from ingest.timeutil import now_iso
from phoneunify.settings import Settings, env_var
from schema.topics import Topics

# Each endpoint's secret: without it the endpoint is disabled (503 "not configured").
SECRET_OF_PATH = {
    "/webhooks/twilio/sms": ("twilio_auth_token",),
    "/webhooks/meta/messenger": ("meta_app_secret",),
    "/webhooks/meta/instagram": ("instagram_app_secret", "meta_app_secret"),
    "/webhooks/meta/whatsapp": ("meta_app_secret",),
    "/webhooks/ringcentral/sms": ("ringcentral_verification_token",),
    "/webhooks/booking": ("booking_api_key",),
    outbound.PATH: ("outbound_api_key",),
}


def disabled_endpoints(settings: Settings) -> dict[str, str]:
    """Webhook paths that answer 503 for want of a secret, with the variable to set."""
    return {
        path: env_var(names[-1])
        for path, names in SECRET_OF_PATH.items()
        if not any(getattr(settings, name) for name in names)
    }


def adapters(settings: Settings) -> dict[str, tuple[Adapter, tuple[str, ...]]]:
    """Every webhook path with its adapter and HTTP methods."""
    meta_both = ("GET", "POST")
    return {
        "/webhooks/twilio/sms": (
            TwilioAdapter(settings.twilio_auth_token, settings.public_base_url),
            ("POST",),
        ),
        "/webhooks/meta/messenger": (
            MetaAdapter(MESSENGER, settings.meta_app_secret, settings.meta_verify_token),
            meta_both,
        ),
        "/webhooks/meta/instagram": (
            MetaAdapter(INSTAGRAM, settings.instagram_signing_secret, settings.meta_verify_token),
            meta_both,
        ),
        "/webhooks/meta/whatsapp": (
            MetaAdapter(WHATSAPP, settings.meta_app_secret, settings.meta_verify_token),
            meta_both,
        ),
        "/webhooks/ringcentral/sms": (RingCentralAdapter(settings.ringcentral_verification_token), ("POST",)),
        "/webhooks/booking": (BookingAdapter(settings.booking_api_key), ("POST",)),
        outbound.PATH: (OutboundAdapter(settings.outbound_api_key), ("POST",)),
    }


def create_app(
    settings: Settings,
    publisher: Publisher | AsyncPublisher,
    registry: CollectorRegistry,
    clock: Callable[[], str] = now_iso,
) -> IngestApp:
    """The ingest app; `clock` returns the receive time as ISO-8601 UTC (tests pin it).

    A synchronous `publisher` is called in worker threads and stays the caller's to close; an
    asynchronous one runs on the app's event loop, so the app closes it there when it shuts down.
    """
    edge_publisher = as_async(publisher)
    webhooks: dict[tuple[str, str], ASGIApp] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await edge_publisher.close()

    app = FastAPI(
        title="phoneunify ingest",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    edge = Edge(
        publisher=edge_publisher,
        metrics=IngestMetrics.create(registry),
        topics=Topics(settings.topic_prefix),
        hash_key=settings.phone_hash_key,
        max_body_bytes=settings.max_body_bytes,
        max_record_bytes=settings.record_limit,
        clock=clock,
    )
    for path, (adapter, methods) in adapters(settings).items():
        # Registered with FastAPI too: the OpenAPI document, 405s, and requests under a root path.
        app.add_api_route(
            path, _endpoint(edge, adapter), methods=list(methods), name=f"webhook_{adapter.name}"
        )
        for method in methods:
            webhooks[method, path] = _asgi_endpoint(edge, adapter)

    # async: liveness must answer even when every worker thread is busy with a big body.
    @app.get("/healthz")
    async def healthz() -> Response:
        """200 while the edge can publish; 503 with the reason while it cannot (broker down, a
        producer being replaced), so a health check sees what providers see."""
        problem = edge_publisher.problem
        if problem is None:
            return JSONResponse({"status": "ok"})
        edge_publisher.reconnect()
        return JSONResponse({"status": "unavailable", "error": problem}, status_code=503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"error": "invalid request"}, status_code=400)

    return IngestApp(app, webhooks)


class IngestApp:
    """The ASGI entry point: a webhook request goes straight to the edge, everything else
    (/healthz, /metrics, /openapi.json, 404s and 405s with their JSON bodies, the lifespan) to
    the FastAPI app behind it.

    Why: FastAPI's and Starlette's middleware, router and endpoint wrappers cost more CPU per
    webhook than verifying, mapping and publishing it, and the edge needs none of them: it
    reads the body itself, and every reply, errors included, is built by the edge.
    """

    def __init__(self, api: FastAPI, webhooks: Mapping[tuple[str, str], ASGIApp]) -> None:
        self.api = api
        self._webhooks = dict(webhooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Under a root path the route's path differs from scope["path"]: FastAPI resolves it.
        if scope["type"] == "http" and not scope.get("root_path"):
            webhook = self._webhooks.get((scope["method"], scope["path"]))
            if webhook is not None:
                await webhook(scope, receive, send)
                return
        await self.api(scope, receive, send)

    @property
    def routes(self) -> list[BaseRoute]:
        return self.api.routes


def _endpoint(edge: Edge, adapter: Adapter) -> Callable[[Request], object]:
    async def webhook(request: Request) -> Response:
        return await edge.handle(adapter, request)

    webhook.__doc__ = f"{adapter.name} webhook: verify, map to raw envelopes, publish, then acknowledge."
    return webhook


def _asgi_endpoint(edge: Edge, adapter: Adapter) -> ASGIApp:
    async def webhook(scope: Scope, receive: Receive, send: Send) -> None:
        response = await edge.handle(adapter, Request(scope, receive))
        await response(scope, receive, send)

    return webhook
