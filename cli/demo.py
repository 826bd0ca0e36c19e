"""`phoneunify demo`: the design document's two customer journeys, through the real webhooks.

Journey 1: an Instagram DM with the phone, then the booking form, then an SMS.
Journey 2: an SMS "Do you do birthdays?" and the business's reply, then a Facebook message
with the phone, then the booking form. Each customer's unified timeline is printed as the
design document's admin box, then where the admin console is and how to log in to it. Message
ids are fixed, so running the demo twice changes nothing.

The reply is reported by the business's sending system on the outbound endpoint: RingCentral's
instant-SMS subscription is documented for inbound messages only, so the reply would not
reliably come back as a webhook (and Twilio and the WhatsApp Cloud API never send the text of
a reply at all).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cli.provider_webhooks import RC_EXTENSION, ringcentral_conversation
from cli.simulate import GraphStandIn, ProviderSimulator, Sent
from cli.terminal import render
from phoneunify.credentials import plain_token
from phoneunify.settings import Settings, env_var

BUSINESS_SMS = "+19165550100"
IG_ACCOUNT = "17841400000000100"
FB_PAGE = "100200300400500"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 11, day, hour, minute, tzinfo=UTC)


def journeys(sim: ProviderSimulator) -> list[tuple[str, Sent]]:
    sent: list[tuple[str, Sent]] = []
    # Journey 1: Instagram DM -> booking form -> SMS.
    sent.append(
        (
            "instagram dm",
            sim.meta_dm(
                "instagram",
                IG_ACCOUNT,
                "17841499990000001",
                "demo-ig-1",
                "Hi! I want to book a party for 8 people. My phone is (916) 555-0142",
                at=_at(18, 10, 30),
            ),
        )
    )
    sent.append(
        (
            "booking form",
            sim.booking(
                {
                    "id": "demo-booking-1",
                    "name": "Maria Lopez",
                    "email": "maria@example.com",
                    "phone": "916.555.0142",
                    "guests": 8,
                    "date": "2025-11-29",
                    "total": "$640",
                    "submitted_at": "2025-11-18T14:00:00Z",
                }
            ),
        )
    )
    sent.append(
        (
            "sms in",
            sim.ringcentral_sms(
                "700000000001",
                "+19165550142",
                BUSINESS_SMS,
                "Is parking available at the venue?",
                at=_at(19, 9, 15),
            ),
        )
    )
    # Journey 2: SMS and the reply -> Facebook message with the phone -> booking form.
    sent.append(
        (
            "sms in",
            sim.ringcentral_sms(
                "700000000002", "+19165551234", BUSINESS_SMS, "Do you do birthdays?", at=_at(19, 15, 0)
            ),
        )
    )
    sent.append(
        (
            "sms out",
            sim.outbound(
                "sms",
                "ringcentral",
                BUSINESS_SMS,
                "+19165551234",
                "700000000003",
                "Yes! We do birthday parties. How many guests?",
                at=_at(19, 15, 5),
                sender="My Hibachi",
                account=RC_EXTENSION,
                conversation_id=ringcentral_conversation("+19165551234"),
            ),
        )
    )
    sent.append(
        (
            "facebook dm",
            sim.meta_dm(
                "messenger",
                FB_PAGE,
                "6100000000000001",
                "demo-fb-1",
                "Hi! I asked about birthdays yesterday. My number is 916-555-1234",
                at=_at(20, 10, 0),
            ),
        )
    )
    sent.append(
        (
            "booking form",
            sim.booking(
                {
                    "id": "demo-booking-2",
                    "name": "John Doe",
                    "email": "john@example.com",
                    "phone": "(916) 555-1234",
                    "guests": 8,
                    "date": "2025-11-25",
                    "total": "$600",
                    "submitted_at": "2025-11-21T14:00:00Z",
                }
            ),
        )
    )
    return sent


class ApiClient:
    def __init__(self, settings: Settings, timeout_s: float = 10.0) -> None:
        self.base = f"http://{settings.api_host}:{settings.api_port}"
        # The first credential that carries its token (a digest-only entry cannot be presented).
        tokens = [plain_token(entry) for entry in settings.api_tokens]
        self.token = next((token for token in tokens if token), "")
        self.timeout_s = timeout_s

    def get(self, path: str, **params: Any) -> tuple[int, Any]:
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def timeline_for_phone(self, phone: str) -> dict[str, Any] | None:
        status, found = self.get("/api/v1/customers", phone=phone)
        if status != 200 or not found.get("customers"):
            return None
        status, body = self.get(f"/api/v1/customers/{found['customers'][0]['id']}/timeline", limit=200)
        return body if status == 200 else None


def wait_for_timeline(api: ApiClient, phone: str, messages: int, timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll the API until the customer's timeline holds `messages` conversation items."""
    deadline = time.monotonic() + timeout_s
    body: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        body = api.timeline_for_phone(phone)
        if (
            body
            and sum(1 for c in body["conversations"] if c["type"] not in ("identity", "consent")) >= messages
        ):
            return body
        time.sleep(0.25)
    raise TimeoutError(f"timeline for the demo customer not complete after {timeout_s:.0f}s: {body}")


@contextlib.contextmanager
def graph_stand_in(settings: Settings) -> Iterator[GraphStandIn | None]:
    """Meta's user-profile endpoints for the stack's profile fetcher, while the demo runs, when
    its Graph URL is a free port on loopback (deploy/dev.env points it there); None otherwise
    (a real Graph API, or a stand-in already serving)."""
    url = urlsplit(settings.meta_graph_url)
    if url.scheme != "http" or url.hostname not in ("127.0.0.1", "localhost") or not settings.page_tokens:
        yield None
        return
    try:
        stand_in = GraphStandIn(settings.page_tokens.values(), host="127.0.0.1", port=url.port or 80)
    except OSError:
        yield None
        return
    with stand_in:
        yield stand_in


def wait_for_profile(api: ApiClient, phone: str, handle: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll until one of the customer's channel identities shows `handle` (its Graph API profile
    arrived through the profile fetcher and the resolver); the timeline as it is after the wait,
    or with the page-scoped ids when the profile did not come (the fetcher may be disabled)."""
    deadline = time.monotonic() + timeout_s
    while True:
        body = api.timeline_for_phone(phone)
        if body and any(i["handle"] == handle for i in body["social_identities"]):
            return body
        if time.monotonic() > deadline:
            print(
                f"(no profile {handle!r} after {timeout_s:.0f}s: is the profile fetcher running?)",
                file=sys.stderr,
            )
            assert body is not None
            return body
        time.sleep(0.25)


def run_demo(settings: Settings, timeout_s: float = 60.0) -> int:
    """Send the journeys, then print each customer's timeline once complete, with the senders'
    profiles (waiting at most `timeout_s` for each), then how to visit the console."""
    with graph_stand_in(settings):
        return _run_demo(settings, timeout_s)


def _run_demo(settings: Settings, timeout_s: float) -> int:
    sim = ProviderSimulator(settings)
    for what, result in journeys(sim):
        if result.status >= 300:
            print(f"{what}: the ingest edge answered {result.status}: {result.body}", file=sys.stderr)
            return 1
        print(f"sent {what}: {result.status}")
    api = ApiClient(settings)
    for title, phone, count, sender in (
        ("Journey 1: Instagram DM -> booking form -> SMS", "(916) 555-0142", 3, "@marialopez"),
        ("Journey 2: SMS -> Facebook Messenger -> booking form", "(916) 555-1234", 4, "John Doe"),
    ):
        body = wait_for_timeline(api, phone, count, timeout_s)
        if settings.page_tokens:
            body = wait_for_profile(api, phone, sender, timeout_s)
        print()
        print(title)
        items = [c for c in body["conversations"] if c["type"] not in ("identity", "consent")]
        render(body["customer"], items, sys.stdout)
        identities = ", ".join(
            f"{i['platform']} {i['handle']} (confidence {i['confidence']}, {i['verification']})"
            for i in body["social_identities"]
        )
        print(f"Linked identities: {identities or 'none'}")
        print(f"Stats: {json.dumps(body['stats'])}")
    print()
    print(console_invitation(settings))
    return 0


def console_invitation(settings: Settings) -> str:
    """Where the admin console is and how to log in (the stack keeps running for a visit)."""
    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host  # noqa: S104
    url = f"http://{host}:{settings.api_port}/console/"
    entry = next((e for e in settings.api_tokens if plain_token(e)), None)
    if entry is None:
        how = "with the token of one of PHONEUNIFY_API_TOKENS (only digests are configured here)"
    elif env_var("api_tokens") in settings.development_values():
        # The published development credential (PHONEUNIFY_ENV=dev): no secret, so say it.
        how = f"with the development token {plain_token(entry)} (PHONEUNIFY_ENV=dev gives it)"
    else:
        how = f"with the token of credential {entry.partition(':')[0]!r} in PHONEUNIFY_API_TOKENS"
    return (
        f"Admin console: {url}\n"
        f"Log in {how}.\n"
        'Search "(916) 555-1234" to see John\'s SMS, Messenger message and booking on one page.\n'
        "The stack keeps running for your visit; `make down` stops it."
    )
