"""Issue 4's identity scenarios as real provider traffic: signed webhooks and admin API calls.

A scenario is a list of rounds; a round is a list of steps sent together. The runner sends
round N of every scenario, waits until the pipeline has resolved all of it, then goes on, so
the order inside a scenario is the order a person would produce, while scenarios interleave.
Every scenario has its own phone numbers (+1 916 555 2xxx), so they never touch each other.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from cli.demo import ApiClient
from cli.simulate import ProviderSimulator, Sent
from phoneunify.settings import Settings

BUSINESS = "+19165550000"
IG = "17841400000000200"
IG_2 = "17841400000000201"
PAGE = "100200300400600"
WA_LINE = "106540352242922"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


@dataclass
class World:
    settings: Settings
    engine: Engine
    sim: ProviderSimulator
    api: ApiClient
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    clock: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # What each scenario remembers for its assertions (customer ids read back, and so on).
    notes: dict[str, Any] = field(default_factory=dict)

    def mid(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):06d}"

    def at(self) -> datetime:
        """Message times one minute apart, in the order steps run."""
        return T0 + timedelta(minutes=next(self.clock))

    # --- admin API -------------------------------------------------------------------------
    def command(self, action: str, **params: Any) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.api.base}/api/v1/admin/commands",
            data=json.dumps({"action": action, "params": params, "note": "e2e"}).encode(),
            headers={"Authorization": f"Bearer {self.api.token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            body: dict[str, Any] = json.loads(response.read())
        return body

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()


@dataclass(frozen=True)
class Step:
    """Sends something; `messages` raw messages result (0 for an admin command, whose effect
    `admin_done` recognises)."""

    run: Callable[[World], Sent | None]
    messages: int = 1
    admin_done: Callable[[World], bool] | None = None


def ok(sent: Sent | None) -> Sent | None:
    assert sent is None or 200 <= sent.status < 300, sent
    return sent


def sms(phone: str, body: str) -> Step:
    return Step(lambda w: ok(w.sim.twilio_sms(w.mid("SM"), phone, BUSINESS, body)))


def twilio_whatsapp(phone: str, body: str) -> Step:
    return Step(
        lambda w: ok(w.sim.twilio_sms(w.mid("SM"), "whatsapp:" + phone, "whatsapp:" + BUSINESS, body))
    )


def rc_sms(phone: str, body: str, direction: str = "Inbound") -> Step:
    return Step(
        lambda w: ok(w.sim.ringcentral_sms(w.mid("7"), phone, BUSINESS, body, direction=direction, at=w.at()))
    )


def dm(product: str, user: str, body: str, *, echo: bool = False, account: str | None = None) -> Step:
    page = account or (IG if product == "instagram" else PAGE)
    return Step(lambda w: ok(w.sim.meta_dm(product, page, user, w.mid("mid."), body, at=w.at(), echo=echo)))


def whatsapp(wa_id: str, body: str, name: str | None = None) -> Step:
    return Step(lambda w: ok(w.sim.whatsapp(WA_LINE, wa_id, w.mid("wamid."), body, name=name, at=w.at())))


def booking(name: str, email: str, phone: str, **extra: Any) -> Step:
    def run(w: World) -> Sent | None:
        body = {
            "id": w.mid("web-"),
            "name": name,
            "email": email,
            "phone": phone,
            "guests": 4,
            "date": "2026-12-24",
            "submitted_at": w.at().isoformat().replace("+00:00", "Z"),
            **extra,
        }
        return ok(w.sim.booking(body))

    return Step(run)


def admin(run: Callable[[World], None], done: Callable[[World], bool]) -> Step:
    def send(w: World) -> Sent | None:
        run(w)
        return None

    return Step(send, messages=0, admin_done=done)


def together(*steps: Step) -> Step:
    """Send several webhooks at the same moment, from threads (concurrent first contacts)."""

    def run(w: World) -> Sent | None:
        barrier = threading.Barrier(len(steps))
        errors: list[BaseException] = []

        def go(step: Step) -> None:
            try:
                barrier.wait(timeout=10)
                step.run(w)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=go, args=(s,)) for s in steps]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)
        assert not errors, errors
        return None

    return Step(run, messages=sum(s.messages for s in steps))


def customer_of_phone(w: World, e164: str) -> str | None:
    value = w.scalar("SELECT customer_id FROM phones WHERE e164 = :e", e=e164)
    return str(value) if value else None


# --- the scenarios -----------------------------------------------------------------------------------

JOURNEY_IG = [
    [dm("instagram", "igsid-sarah", "Hi! Table for 4 on Friday?")],
    [dm("instagram", "igsid-sarah", "Great, my number is 916-555-2001")],
    [booking("Sarah Johnson", "sarah@example.com", "(916) 555-2001", notes="Window seat")],
    [sms("+19165552001", "Running 10 min late, sorry!")],
]

JOURNEY_SMS = [
    [rc_sms("+19165552002", "Do you do birthdays?")],
    [rc_sms("+19165552002", "Yes! How many guests?", direction="Outbound")],
    [dm("messenger", "psid-mike", "This is Mike, my cell is 916-555-2002")],
    [booking("Mike Chen", "mike@example.com", "916.555.2002")],
]

FAMILY = [
    [booking("Maria Lopez", "maria@example.com", "916-555-2003")],
    [booking("Jose Lopez", "jose@example.com", "(916) 555-2003")],
    [sms("+19165552003", "Confirming for 6 people")],
]
FAMILY_MARKED_SHARED = [
    [
        admin(
            lambda w: w.command("mark_shared", phone="(916) 555-2003") and None,
            lambda w: bool(w.scalar("SELECT shared FROM phones WHERE e164 = '+19165552003'")),
        )
    ],
    [whatsapp("19165552003", "Hola!", name="Ana Lopez")],
]

BUSINESS_NUMBER = [
    [dm("instagram", "igsid-kim", "Hi, can I book for Saturday?")],
    [dm("instagram", "igsid-kim", "Sure! Call us at 916-555-0000 or text 916-555-2004", echo=True)],
    [dm("instagram", "igsid-kim", "See you!\n--\nBella Cucina | (916) 555-0000 | 916-555-2004", echo=True)],
    [dm("instagram", "igsid-kim", "I called 916-555-0000 yesterday, no answer")],
]

FRIENDS_NUMBER = [
    [dm("instagram", "igsid-amy", "my friend's number is 916-555-2005, she wants to book too")],
    [sms("+19165552005", "Hi, Amy gave me your number")],
]

TWO_PHONES = [
    [sms("+19165552061", "Hi, table for two?")],
    [dm("instagram", "igsid-dan", "it's Dan, my number is 916-555-2061")],
    [dm("instagram", "igsid-dan", "my work cell is 916-555-2062")],
    [sms("+19165552062", "Dan here, from my work phone")],
]

BRAZIL = [
    [whatsapp("551187654321", "Oi, vocês abrem domingo?", name="João Silva")],
    [twilio_whatsapp("+5511987654321", "Sou eu de novo")],
    [dm("instagram", "igsid-joao", "meu número é +55 11 98765-4321")],
]

CONFLICT = [
    [sms("+19165552081", "hi")],
    [sms("+19165552082", "hello again")],
    [dm("instagram", "igsid-pat", "my number is 916-555-2081")],
    [dm("instagram", "igsid-pat", "916-555-2082")],
    [dm("instagram", "igsid-pat", "my work cell is 916-555-2082")],
]

CONCURRENT = [
    [
        together(
            sms("+19165552100", "hi, do you deliver?"),
            rc_sms("+19165552100", "hello?"),
            whatsapp("19165552100", "Hi there", name="Rosa Diaz"),
            twilio_whatsapp("+19165552100", "hey"),
            dm("instagram", "igsid-rosa", "my number is 916-555-2100"),
            dm("instagram", "igsid-rosa-2", "text me at (916) 555-2100", account=IG_2),
            dm("messenger", "psid-rosa", "call me at 916-555-2100"),
            booking("Rosa Diaz", "rosa@example.com", "916 555 2100"),
        )
    ]
]


def _merge(w: World) -> None:
    a, b = customer_of_phone(w, "+19165552091"), customer_of_phone(w, "+19165552092")
    assert a and b and a != b
    w.notes["merge"] = (a, b)
    w.command("merge", survivor_id=a, merged_id=b)


def _merged(w: World) -> bool:
    a, b = w.notes["merge"]
    return bool(w.scalar("SELECT merged_into::text = :a FROM customers WHERE id = :b", a=a, b=b))


def _split(w: World) -> None:
    a, b = w.notes["merge"]
    w.notes["redirect"] = redirect_of(w, f"/api/v1/customers/{b}/timeline")
    w.notes["merged_timeline"] = timeline_texts(w, a)
    w.command("split", customer_id=b)


def _split_done(w: World) -> bool:
    _, b = w.notes["merge"]
    return bool(w.scalar("SELECT merged_into IS NULL FROM customers WHERE id = :b", b=b))


def redirect_of(w: World, path: str) -> tuple[int, str | None]:
    """Status and Location of a GET, without following redirects."""
    connection = http.client.HTTPConnection(w.settings.api_host, w.settings.api_port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {w.api.token}"})
        response = connection.getresponse()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def timeline_texts(w: World, customer: str) -> list[str]:
    status, body = w.api.get(f"/api/v1/customers/{customer}/timeline", limit=200)
    assert status == 200, body
    return sorted(c["content"] for c in body["conversations"] if c["type"] not in ("identity", "consent"))


MERGE_SPLIT = [
    [sms("+19165552091", "Hi, table for two tonight?")],
    [dm("instagram", "igsid-alex", "my number is 916-555-2092")],
    [admin(_merge, _merged)],
    [dm("instagram", "igsid-alex", "Can we add a birthday cake?"), sms("+19165552092", "Alex, by SMS")],
    [admin(_split, _split_done)],
    [dm("instagram", "igsid-alex", "thanks!")],
]

RAW_ONLY = {
    "journey_ig": JOURNEY_IG,
    "journey_sms": JOURNEY_SMS,
    "family": FAMILY,
    "business_number": BUSINESS_NUMBER,
    "friends_number": FRIENDS_NUMBER,
    "two_phones": TWO_PHONES,
    "brazil": BRAZIL,
    "conflict": CONFLICT,
    "concurrent": CONCURRENT,
}
WITH_ADMIN = {
    **RAW_ONLY,
    "family": FAMILY + FAMILY_MARKED_SHARED,
    "merge_split": MERGE_SPLIT,
}


def run_rounds(world: World, scenarios: dict[str, list[list[Step]]], timeout: float = 90.0) -> int:
    """Send every scenario round by round; returns the number of raw messages sent."""
    sent = 0
    for index in range(max(len(rounds) for rounds in scenarios.values())):
        steps = [step for rounds in scenarios.values() if index < len(rounds) for step in rounds[index]]
        for step in steps:
            step.run(world)
        sent += sum(step.messages for step in steps)
        wait_resolved(world, sent, timeout)
        for step in steps:
            if step.admin_done is not None:
                _wait(lambda step=step: step.admin_done(world), timeout, "an admin command to apply")
    _wait(
        lambda: (
            world.scalar("SELECT count(*) FROM timeline_events WHERE type NOT IN ('identity', 'consent')")
            >= sent
        ),
        timeout,
        f"{sent} messages on timelines",
    )
    return sent


def wait_resolved(world: World, messages: int, timeout: float = 90.0) -> None:
    _wait(
        # Admin commands keep their outbox rows here too, under command:<id>.
        lambda: (
            world.scalar("SELECT count(*) FROM resolved_messages WHERE idempotency_key NOT LIKE 'command:%'")
            >= messages
        ),
        timeout,
        f"{messages} messages resolved",
    )


def _wait(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
