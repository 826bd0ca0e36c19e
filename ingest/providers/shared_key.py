"""Authenticating the business's own systems: one shared key, sent or used to sign.

The booking form and the outbound-message endpoint are called by the business's own servers,
not by a provider with a signature scheme of its own. Either header proves the caller holds
the endpoint's key:
- `X-Api-Key: <key>` (simple, for a server-side caller), or
- `X-Signature-256: sha256=<hex HMAC-SHA256(key, raw body)>` (the key never travels).
"""

from __future__ import annotations

from ingest import signatures
from ingest.edge import Inbound, forbidden, unauthorized


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
