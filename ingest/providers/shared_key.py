"""Authenticating the business's own systems: one shared key, sent or used to sign.

The booking form and the outbound-message endpoint are called by the business's own servers,
not by a provider with a signature scheme of its own. Either header proves the caller holds
the endpoint's key:
- `X-Api-Key: <key>` (simple, for a server-side caller), or
- `X-Signature-256: sha256=<hex HMAC-SHA256(key, raw body)>` (the key never travels).
"""

from __future__ import annotations

from typing import Any

from ingest import signatures
from ingest.edge import Inbound, Reply, forbidden, not_configured, unauthorized
from ingest.providers.base import Mapped, load_json


def verify_shared_key(inbound: Inbound, key: str) -> None:
    """Raise RejectedError (401 without either header, 403 when one does not match)."""
    api_key = inbound.headers.get("x-api-key")
    signature = inbound.headers.get("x-signature-256")
    if not api_key and not signature:
        raise unauthorized("missing X-Api-Key or X-Signature-256")
    if api_key and not signatures.tokens_equal(key, api_key):
        raise forbidden("X-Api-Key does not match")
    if signature and not signatures.sha256_header_valid(key, inbound.body, signature):
        raise forbidden("X-Signature-256 does not match")


class SharedKeyAdapter:
    """An endpoint of the business's own servers: one shared key (empty: the endpoint answers
    503), a JSON body, one mapping. Subclasses name it and map the body."""

    name: str
    channel: str
    key_name: str  # what is missing, in words, when the key is not configured

    def __init__(self, api_key: str) -> None:
        self._key = api_key

    def handshake(self, inbound: Inbound) -> Reply | None:
        return None

    def accept(self, inbound: Inbound) -> Mapped:
        if not self._key:
            raise not_configured(self.key_name)
        verify_shared_key(inbound, self._key)
        return self.map(load_json(inbound.body), inbound.received_at)

    def map(self, payload: Any, received_at: str) -> Mapped:
        raise NotImplementedError
