"""Send webhooks the way the providers send them, signed with the configured secrets.

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

from ingest.signatures import hmac_sha256_hex, twilio_signature
from phoneunify.settings import Settings

# The RingCentral extension the simulated subscription belongs to (its webhooks' ownerId).
RC_EXTENSION = "62264425001"


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

    # --- Twilio ------------------------------------------------------------------------------
    def twilio_sms(self, sid: str, from_: str, to: str, body: str, **extra: str) -> Sent:
        params = {
            **_twilio_message(sid, from_, to),
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            **extra,
        }
        return self._twilio(params)

    def twilio_status(self, sid: str, from_: str, to: str, status: str) -> Sent:
        """A status callback about one of the business's sends (From is the business, no Body)."""
        params = {**_twilio_message(sid, from_, to), "MessageStatus": status, "SmsStatus": status}
        return self._twilio(params)

    def _twilio(self, params: dict[str, str]) -> Sent:
        """POST form parameters signed as Twilio signs them."""
        path = "/webhooks/twilio/sms"
        url = self.settings.public_base_url.rstrip("/") + path
        signature = twilio_signature(self.settings.twilio_auth_token, url, sorted(params.items()))
        return self._post(
            path,
            urllib.parse.urlencode(params).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )

    # --- RingCentral -------------------------------------------------------------------------
    def ringcentral_sms(
        self,
        message_id: str,
        customer: str,
        business: str,
        text: str,
        direction: str = "Inbound",
        at: datetime | None = None,
    ) -> Sent:
        moment = (at or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        inbound = direction == "Inbound"
        body = {
            "uuid": f"rc-{message_id}",
            "event": f"/restapi/v1.0/account/~/extension/{RC_EXTENSION}/message-store/instant?type=SMS",
            "subscriptionId": "sub-demo",
            "ownerId": RC_EXTENSION,
            "timestamp": moment,
            "body": {
                "id": message_id,
                "to": [{"phoneNumber": business if inbound else customer}],
                "from": {"phoneNumber": customer if inbound else business},
                "type": "SMS",
                "creationTime": moment,
                "lastModifiedTime": moment,
                "readStatus": "Unread",
                "direction": direction,
                "availability": "Alive",
                "subject": text,
                "messageStatus": "Received" if inbound else "Sent",
                "conversationId": ringcentral_conversation(customer),
            },
        }
        headers = {"Content-Type": "application/json"}
        if self.settings.ringcentral_verification_token:
            headers["Verification-Token"] = self.settings.ringcentral_verification_token
        return self._post("/webhooks/ringcentral/sms", json.dumps(body).encode(), headers)

    # --- Meta --------------------------------------------------------------------------------
    def _meta(self, product: str, payload: dict[str, Any]) -> Sent:
        # Meta sends compact JSON with non-ASCII escaped; the signature covers exactly these bytes.
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()
        secret = self.settings.meta_app_secret
        if product == "instagram" and self.settings.instagram_app_secret:
            secret = self.settings.instagram_app_secret
        return self._post(
            f"/webhooks/meta/{product}",
            raw,
            {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(secret, raw),
            },
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
        ms = int((at or datetime.now(UTC)).timestamp() * 1000)
        sender, recipient = (account_id, user_id) if echo else (user_id, account_id)
        message: dict[str, Any] = {"mid": mid, "text": text}
        if echo:
            message["is_echo"] = True
        payload = {
            "object": "page" if product == "messenger" else "instagram",
            "entry": [
                {
                    "id": account_id,
                    "time": ms,
                    "messaging": [
                        {
                            "sender": {"id": sender},
                            "recipient": {"id": recipient},
                            "timestamp": ms,
                            "message": message,
                        }
                    ],
                }
            ],
        }
        return self._meta(product, payload)

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
        seconds = str(int((at or datetime.now(UTC)).timestamp()))
        contact: dict[str, Any] = {"wa_id": wa_id}
        if name:
            contact["profile"] = {"name": name}
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
            "contacts": [contact],
            "messages": [
                {"from": wa_id, "id": wamid, "timestamp": seconds, "type": "text", "text": {"body": text}}
            ],
        }
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "waba-" + phone_number_id, "changes": [{"value": value, "field": "messages"}]}],
        }
        return self._meta("whatsapp", payload)

    # --- the business's own sends ------------------------------------------------------------
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
            "sent_at": (at or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **extra,
        }
        return self._post(
            "/outbound/v1/messages",
            json.dumps(report).encode(),
            {"Content-Type": "application/json", "X-Api-Key": self.settings.outbound_api_key},
        )

    # --- booking form ------------------------------------------------------------------------
    def booking(self, booking: dict[str, Any]) -> Sent:
        return self._post(
            "/webhooks/booking",
            json.dumps(booking).encode(),
            {"Content-Type": "application/json", "X-Api-Key": self.settings.booking_api_key},
        )


def ringcentral_conversation(customer: str) -> str:
    """RingCentral keeps one conversation per pair of numbers; a stable stand-in for its id."""
    return str(7876416245344257449 + int("".join(ch for ch in customer if ch.isdigit())))


def _twilio_message(sid: str, from_: str, to: str) -> dict[str, str]:
    """What every Twilio request about one message carries."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": to,
        "ApiVersion": "2010-04-01",
    }


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
