"""Send webhooks the way the providers send them, signed with the configured secrets (the
bodies and signatures come from cli/provider_webhooks.py).

Used by `phoneunify demo`, the end-to-end tests and the throughput benchmark: every message
goes through the real ingest edge, exactly as a provider's delivery would. `GraphStandIn`
plays Meta's Graph API user-profile endpoints on loopback, for the profile fetcher.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cli import provider_webhooks as webhooks
from phoneunify.settings import Settings
from schema.envelopes import utc_iso


@dataclass(frozen=True)
class Sent:
    status: int
    body: str


class ProviderSimulator:
    def __init__(self, settings: Settings, base_url: str | None = None, timeout_s: float = 15.0) -> None:
        self.settings = settings
        self.base = (base_url or f"http://{settings.ingest_host}:{settings.ingest_port}").rstrip("/")
        self.timeout_s = timeout_s

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> Sent:
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return Sent(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            return Sent(exc.code, exc.read().decode(errors="replace"))

    def _send(self, delivery: webhooks.Delivery) -> Sent:
        return self._post(delivery.path, delivery.body, dict(delivery.headers))

    def twilio_sms(self, sid: str, from_: str, to: str, body: str, **extra: str) -> Sent:
        return self._send(webhooks.twilio_sms(self.settings, sid, from_, to, body, **extra))

    def twilio_status(self, sid: str, from_: str, to: str, status: str) -> Sent:
        """A status callback about one of the business's sends (From is the business, no Body)."""
        return self._send(webhooks.twilio_status(self.settings, sid, from_, to, status))

    def ringcentral_sms(
        self,
        message_id: str,
        customer: str,
        business: str,
        text: str,
        direction: str = "Inbound",
        at: datetime | None = None,
    ) -> Sent:
        return self._send(
            webhooks.ringcentral_sms(
                self.settings, message_id, customer, business, text, _now(at), direction=direction
            )
        )

    def meta_dm(
        self,
        product: str,
        account_id: str,
        user_id: str,
        mid: str,
        text: str,
        at: datetime | None = None,
        echo: bool = False,
    ) -> Sent:
        """A Messenger (product 'messenger') or Instagram ('instagram') direct message."""
        return self._send(
            webhooks.meta_dm(self.settings, product, account_id, user_id, mid, text, _now(at), echo=echo)
        )

    def whatsapp(
        self,
        phone_number_id: str,
        wa_id: str,
        wamid: str,
        text: str,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Sent:
        """A WhatsApp Cloud API text message from `wa_id` (digits, no '+', as Meta sends it)."""
        return self._send(
            webhooks.whatsapp(self.settings, phone_number_id, wa_id, wamid, text, _now(at), name=name)
        )

    def outbound(
        self,
        channel: str,
        provider: str,
        from_: str,
        to: str,
        message_id: str,
        text: str,
        at: datetime | None = None,
        **extra: Any,
    ) -> Sent:
        """The business's sending system reporting a message it sent (POST /outbound/v1/messages):
        `extra` adds sender, attachments, to_user_id, account or conversation_id."""
        report: dict[str, Any] = {
            "channel": channel,
            "provider": provider,
            "from": from_,
            "to": to,
            "message_id": message_id,
            "text": text,
            "sent_at": utc_iso(_now(at)),
            **extra,
        }
        return self._send(webhooks.outbound(self.settings, report))

    def booking(self, booking: dict[str, Any]) -> Sent:
        return self._send(webhooks.booking(self.settings, booking))


def _now(at: datetime | None) -> datetime:
    return at or datetime.now(UTC)


# --- the Graph API's user-profile endpoints ---------------------------------------------------
# Who the demo's senders are, as Meta's user-profile endpoints would answer for them.
DEMO_PROFILES: dict[str, dict[str, str]] = {
    # John's Facebook Messenger PSID: Messenger gives first and last name.
    "6100000000000001": {"first_name": "John", "last_name": "Doe"},
    # Maria's Instagram IGSID: Instagram gives username and name.
    "17841499990000001": {"username": "marialopez", "name": "Maria Lopez"},
}


class GraphStandIn:
    """A stand-in for the Graph API's user-profile endpoints on loopback, for the demo and the
    tests: GET /<version>/<id>?fields=...&access_token=... answers the known profiles' asked
    fields, with an X-App-Usage header; an unknown token is Graph error 190, an unknown id
    error 100, as Meta answers. `calls` counts the requests; `status` set to 429 or 503 makes
    every answer a throttle or a server error (for the fetcher's tests)."""

    def __init__(
        self,
        tokens: Iterable[str],
        profiles: dict[str, dict[str, str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.host = host
        self.tokens = set(tokens)
        self.profiles = dict(DEMO_PROFILES if profiles is None else profiles)
        self.calls = 0
        self.status = 200
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in.calls += 1
                status, body = stand_in.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header(
                    "X-App-Usage", json.dumps({"call_count": 1, "total_cputime": 1, "total_time": 1})
                )
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the query string holds the token: never logged

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="graph-stand-in", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_port}"

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        parts = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(parts.query)
        if self.status == 429:
            return 429, {"error": {"message": "Application request limit reached", "code": 4}}
        if self.status >= 500:
            return self.status, {"error": {"message": "An unexpected error has occurred", "code": 2}}
        if query.get("access_token", [""])[0] not in self.tokens:
            return 400, {
                "error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
            }
        user = parts.path.rstrip("/").rpartition("/")[2]
        profile = self.profiles.get(user)
        if profile is None:
            return 400, {
                "error": {"message": "Unsupported get request.", "type": "GraphMethodException", "code": 100}
            }
        fields = query.get("fields", [""])[0].split(",")
        return 200, {"id": user, **{k: v for k, v in profile.items() if k in fields}}

    def __enter__(self) -> GraphStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
