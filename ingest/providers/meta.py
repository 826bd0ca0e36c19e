"""Meta webhooks (Messenger, Instagram, WhatsApp Cloud API): what the three products share.

- The GET handshake: `hub.mode=subscribe`, `hub.verify_token` compared in constant time,
  `hub.challenge` echoed verbatim as text/plain.
- X-Hub-Signature-256 over the raw body with the product's app secret (Instagram can have its
  own), checked before the body is parsed.
- The notification envelope `{object, entry: [...]}`: one endpoint per product, each
  accepting only its own `object`, and the dashboard's "Test" payloads (entry id "0" or a
  `changes[]` messages sample on Messenger/Instagram) acknowledged and dropped.

The per-product mappings live in meta_messaging.py and whatsapp.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ingest import signatures
from ingest.edge import (
    Inbound,
    RejectedError,
    Reply,
    forbidden,
    json_reply,
    not_configured,
    outcome_of,
    unauthorized,
)
from ingest.metrics import FORBIDDEN, HANDSHAKE, MALFORMED
from ingest.providers import meta_messaging, whatsapp
from ingest.providers.base import Mapped, PayloadError, load_json

MAX_CHALLENGE = 256

MapFn = Callable[[dict[str, Any], str], Mapped]


@dataclass(frozen=True)
class Product:
    name: str  # endpoint and metric label
    object: str  # the notification's "object"
    channel: str
    map: MapFn


MESSENGER = Product("messenger", "page", "messenger", meta_messaging.map_messenger)
INSTAGRAM = Product("instagram", "instagram", "instagram", meta_messaging.map_instagram)
WHATSAPP = Product("whatsapp", "whatsapp_business_account", "whatsapp", whatsapp.map_payload)
PRODUCTS = {p.name: p for p in (MESSENGER, INSTAGRAM, WHATSAPP)}
BY_OBJECT = {p.object: p for p in (MESSENGER, INSTAGRAM, WHATSAPP)}


class MetaAdapter:
    def __init__(self, product: Product, app_secret: str, verify_token: str) -> None:
        self.product = product
        self.name = product.name
        self.channel = product.channel
        self._secret = app_secret
        self._verify_token = verify_token

    def handshake(self, inbound: Inbound) -> Reply | None:
        if inbound.method != "GET":
            return None
        params = inbound.query_params()

        def hub(name: str) -> str | None:
            # PHP-style frameworks rewrite "hub.mode" to "hub_mode"; accept both spellings.
            return params.get(f"hub.{name}", params.get(f"hub_{name}"))

        if hub("mode") != "subscribe":
            raise RejectedError(400, MALFORMED, "hub.mode must be 'subscribe'")
        if not self._verify_token:
            raise not_configured("the Meta verify token")
        if not signatures.tokens_equal(self._verify_token, hub("verify_token")):
            raise RejectedError(403, FORBIDDEN, "hub.verify_token does not match")
        challenge = hub("challenge")
        if not challenge or len(challenge) > MAX_CHALLENGE:
            raise RejectedError(400, MALFORMED, "hub.challenge missing or too long")
        # Echoed verbatim as Meta requires; nosniff keeps a reflected value from being rendered.
        return Reply(
            200, HANDSHAKE, challenge.encode("utf-8"), "text/plain", {"X-Content-Type-Options": "nosniff"}
        )

    def accept(self, inbound: Inbound) -> Mapped:
        if not self._secret:
            raise not_configured(f"the {self.name} app secret")
        header = inbound.headers.get("x-hub-signature-256")
        if not header:
            raise unauthorized("missing X-Hub-Signature-256")
        if not signatures.sha256_header_valid(self._secret, inbound.body, header):
            raise forbidden("X-Hub-Signature-256 does not match")
        payload = load_json(inbound.body)
        return map_payload(payload, inbound.received_at, self.product)

    def acknowledge(self, mapped: Mapped) -> Reply:
        return json_reply(
            200,
            outcome_of(mapped),
            {"status": "ok", "published": len(mapped.envelopes), "ignored": mapped.ignored},
        )


def map_payload(payload: Any, received_at: str, product: Product | None = None) -> Mapped:
    """Map a Meta notification; `product` pins the expected object, None routes by object."""
    if not isinstance(payload, dict):
        raise PayloadError("body is not a JSON object")
    kind = payload.get("object")
    if not isinstance(kind, str):
        raise PayloadError("object: missing")
    if product is None:
        found = BY_OBJECT.get(kind)
        if found is None:
            raise PayloadError("object: not a Meta product we ingest")
        product = found
    elif kind != product.object:
        raise PayloadError(f"object: expected {product.object!r} on this endpoint")
    return product.map(payload, received_at)
