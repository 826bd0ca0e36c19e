"""Erasure and the consent question through the API, on PostgreSQL.

Messages go through the real extract stage and resolver, commands through the real handler,
events through the real projection and timeline writer (tests/integration/builders.py); the
API reads what they wrote. The Kafka flow of the same promises is tests/e2e/test_privacy_e2e.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from phoneunify.settings import Settings
from tests.identity_scenarios import thread
from tests.integration.builders import Pipeline, RecordingPublisher, api_client, at, write_events
from tests.privacy_scenarios import whatsapp_username
from workers.adapters.profile_schedule import PostgresSchedule
from workers.domain.profiles import Sender

pytestmark = pytest.mark.infra

TEL = "+19165551234"
OTHER = "+19165557777"
AGREED = "I agree to receive texts about my bookings from Cafe Rosa. Reply STOP to opt out."


@pytest.fixture
def pipe(engine: Engine, settings: Settings) -> Pipeline:
    """The pipeline with the API's phone hash key: consent and erasure keep keyed hashes."""
    return Pipeline(engine=engine, settings=settings)


def owner(client: TestClient, phone: str) -> str:
    response = client.get("/api/v1/customers", params={"phone": phone})
    assert response.status_code == 200, response.text
    return str(response.json()["customers"][0]["id"])


def consent(
    client: TestClient, phone: str, channel: str = "sms", purpose: str | None = None
) -> dict[str, Any]:
    params = {"phone": phone, "channel": channel, **({"purpose": purpose} if purpose else {})}
    response = client.get("/api/v1/consent", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def answer(
    client: TestClient, phone: str, channel: str = "sms", purpose: str | None = None
) -> tuple[str, bool, str]:
    body = consent(client, phone, channel, purpose)
    return body["status"], body["may_send"], body["rule"]


# --- erasure ------------------------------------------------------------------------------------


def test_an_erased_person_is_gone_from_every_read(pipe: Pipeline, client: TestClient, engine: Engine) -> None:
    pipe.run(pipe.sms(TEL, "Hi, it's Ana, table for 2?"))
    dm = pipe.instagram("igsid-ana", "Ana here, my number is 916-555-1234", name="Ana Ruiz")
    pipe.run(dm)
    pipe.run(
        pipe.booking("bk-ana", name="Ana Ruiz", email="ana@example.com", phone="916.555.1234", notes="window")
    )
    # The profile fetcher saw her (and Cy, below): it keeps its own row per sender.
    fetcher = PostgresSchedule(engine)
    for sender in ("igsid-ana", "igsid-cy"):
        thread_key = dm.thread_key.replace("igsid-ana", sender)
        fetcher.seen([Sender(dm.channel, dm.business_account, sender, thread_key)], at(0))
    pipe.run(pipe.sms(OTHER, "hi, I'm Bo"))
    cy = pipe.instagram("igsid-cy", "my number is 916-555-1234", name="Cy Stone")
    pipe.run(cy)  # names clash: a question for review, and Cy's conversation waits unlinked
    ana, bo = owner(client, TEL), owner(client, OTHER)
    pipe.admin("merge", survivor_id=ana, merged_id=bo)
    assert client.get("/api/v1/review/conflicts").json()["conflicts"]

    pipe.admin("erase_customer", customer_id=bo)  # the merged id: the whole person goes

    for customer in (ana, bo):
        response = client.get(f"/api/v1/customers/{customer}/timeline")
        assert (response.status_code, response.json()) == (410, {"error": f"customer {customer} was erased"})
    for phone in (TEL, "(916) 555-7777"):
        assert client.get("/api/v1/customers", params={"phone": phone}).status_code == 404
    assert client.get("/api/v1/review/conflicts").json()["conflicts"] == []
    unlinked = client.get("/api/v1/review/threads").json()["threads"]
    assert [t["thread_id"] for t in unlinked] == [str(thread(cy))]  # Cy is someone else
    # The ledger stays, as the record of what was decided and that the person was erased.
    entries = client.get(f"/api/v1/customers/{ana}/ledger").json()["entries"]
    assert entries[-1]["action"] == "customer.erased" and entries[-1]["actor"] == "admin:ops"
    assert all(e["evidence"].get("erased") for e in entries[:-1])
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT content, sender, payload FROM timeline_events WHERE customer_id IN (:a, :b)"),
            {"a": ana, "b": bo},
        ).all()
        everything = json.dumps(
            [
                list(r)
                for r in conn.execute(text("SELECT * FROM timeline_events WHERE customer_id IS NOT NULL"))
            ],
            default=str,
        )
    assert rows and all(
        r.content is None and r.sender is None and r.payload == {"erased": True} for r in rows
    )
    for personal in ("Ana", "table for 2", "window", "5557777", "Bo"):
        assert personal not in everything, personal
    with engine.connect() as conn:
        fetched = conn.execute(text("SELECT provider_user_id FROM profile_fetches")).scalars().all()
    assert fetched == ["igsid-cy"]  # the fetcher forgot her, not Cy
    # Nothing more can be decided about them: the API says so before anything is queued.
    published = RecordingPublisher()
    with api_client(pipe.settings, engine, published) as admin:
        for action, params in (("erase_customer", {"customer_id": ana}), ("split", {"customer_id": bo})):
            response = admin.post("/api/v1/admin/commands", json={"action": action, "params": params})
            assert (response.status_code, response.json()["error"]) == (
                410,
                f"customer {params['customer_id']} was erased",
            )
        hers = str(thread(pipe.sent[0].request.envelope))
        response = admin.post(
            "/api/v1/admin/commands", json={"action": "unlink_thread", "params": {"thread_id": hers}}
        )
        assert (response.status_code, response.json()["error"]) == (
            410,
            f"thread {hers} belongs to a customer who was erased",
        )
    assert published.records == []


def test_the_erase_command_is_checked_and_keyed_by_the_customer(
    pipe: Pipeline, settings: Settings, engine: Engine
) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    published = RecordingPublisher()
    with api_client(settings, engine, published) as client:
        ana = owner(client, TEL)
        accepted = client.post(
            "/api/v1/admin/commands", json={"action": "erase_customer", "params": {"customer_id": ana}}
        )
        assert accepted.status_code == 202, accepted.text
        sms = {"phone": TEL, "channel": "sms"}
        for body, error in (
            ({"action": "erase_customer", "params": {}}, "erase_customer needs customer_id"),
            (
                {"action": "set_consent", "params": {**sms, "status": "maybe", "reason": "x"}},
                "status must be one of opted_in, opted_out",
            ),
            (
                {
                    "action": "set_consent",
                    "params": {**sms, "phone": "call me", "status": "opted_in", "reason": "x"},
                },
                "phone is not a phone number",
            ),
            ({"action": "set_consent", "params": {**sms, "status": "opted_in"}}, "needs reason"),
        ):
            response = client.post("/api/v1/admin/commands", json=body)
            assert response.status_code == 400 and error in response.json()["error"], response.text
    (record,) = published.records
    assert record.key == ana and json.loads(record.value)["action"] == "erase_customer"


def test_an_event_about_an_erased_person_that_arrives_late_is_written_blank(
    pipe: Pipeline, engine: Engine
) -> None:
    """The writer reads partitions at its own pace: a message event keyed by the thread (while
    it was unlinked) may come after the erasure's event, keyed by the customer."""
    pipe.run(pipe.sms(TEL, "hi"))
    late = pipe.send(pipe.sms(TEL, "a secret"))  # resolved, not yet written
    pipe.written = len(pipe.stream)
    erased = pipe.command("erase_customer", customer_id=owner_of(engine, late[-1].data["thread_id"]))
    write_events(engine, erased)
    write_events(engine, late)
    with engine.connect() as conn:
        contents = [
            r.content for r in conn.execute(text("SELECT content FROM timeline_events WHERE type = 'sms'"))
        ]
    assert contents == [None, None]


def owner_of(engine: Engine, thread_id: str) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(text("SELECT customer_id FROM threads WHERE id = :t"), {"t": thread_id}).scalar()
        )


# --- the consent question -----------------------------------------------------------------------


def test_unknown_is_not_yes_for_marketing(pipe: Pipeline, client: TestClient) -> None:
    unknown = consent(client, "(916) 555-4444")
    assert unknown == {
        "phone": "+19165554444",
        "channel": "sms",
        "purpose": "marketing",
        "status": "unknown",
        "may_send": False,
        "since": None,
        "evidence": {},
        "rule": "marketing_needs_opt_in",
    }
    assert answer(client, "916 555 4444", purpose="transactional") == (
        "unknown",
        False,
        "transactional_unknown_number",
    )
    pipe.run(pipe.sms(TEL, "Hi, table for two?"))  # she gave the business her number
    assert answer(client, TEL, purpose="transactional") == (
        "unknown",
        True,
        "transactional_number_given_by_customer",
    )
    assert answer(client, TEL) == ("unknown", False, "marketing_needs_opt_in")


def test_stop_and_start_decide_by_when_they_were_said(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "Hi"))
    pipe.run(pipe.sms(TEL, "STOP"))
    stopped = consent(client, "(916) 555-1234", purpose="transactional")
    assert (stopped["status"], stopped["may_send"], stopped["rule"]) == ("opted_out", False, "opted_out")
    assert stopped["evidence"]["keyword"] == "STOP" and stopped["evidence"]["said_by"] == "phone"
    assert stopped["since"] is not None
    assert answer(client, TEL, "whatsapp") == ("unknown", False, "marketing_needs_opt_in")  # per channel
    pipe.run(pipe.sms(TEL, "START"))
    assert answer(client, TEL) == ("opted_in", True, "opted_in")


def test_the_booking_forms_opt_in_answers_with_the_text_agreed(pipe: Pipeline, client: TestClient) -> None:
    form = pipe.booking("bk-opt", name="Ana Ruiz", email="ana@example.com", phone="(916) 555-1234")
    assert form.booking is not None
    pipe.run(
        replace(
            form,
            booking=replace(
                form.booking,
                consent_text=AGREED,
                consent_at="2026-03-06T16:00:00.000Z",
                consent_channels=("sms",),
            ),
        )
    )
    body = consent(client, TEL)
    assert (body["status"], body["may_send"], body["since"]) == (
        "opted_in",
        True,
        "2026-03-06T16:00:00+00:00",
    )
    assert (body["evidence"]["source"], body["evidence"]["text"]) == ("booking_form", AGREED)


def test_an_admin_records_consent_with_a_reason(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    pipe.admin(
        "set_consent",
        phone="916-555-1234",
        channel="whatsapp",
        status="opted_in",
        reason="signed the paper form",
    )
    body = consent(client, TEL, "whatsapp")
    assert (body["status"], body["evidence"]["source"], body["evidence"]["reason"]) == (
        "opted_in",
        "admin",
        "signed the paper form",
    )


def test_a_stop_from_a_username_counts_for_the_number_the_person_later_gives(
    pipe: Pipeline, client: TestClient
) -> None:
    pipe.run(whatsapp_username(pipe, "wa-user-ana", "STOP", handle="ana"))
    assert answer(client, TEL, "whatsapp") == ("unknown", False, "marketing_needs_opt_in")  # no number yet
    pipe.run(whatsapp_username(pipe, "wa-user-ana", "it's Ana, my number is 916-555-1234", handle="ana"))
    body = consent(client, TEL, "whatsapp", "transactional")
    assert (body["status"], body["may_send"], body["evidence"]["said_by"]) == ("opted_out", False, "identity")
    assert answer(client, TEL, "sms") == ("unknown", False, "marketing_needs_opt_in")  # said on WhatsApp only
    card = client.get("/api/v1/customers", params={"phone": TEL}).json()["customers"][0]
    assert [(c["phone"], c["channel"], c["status"]) for c in card["consent"]] == [
        (TEL, "whatsapp", "opted_out")
    ]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"phone": TEL, "channel": "fax"}, "channel must be one of sms, whatsapp, messenger, instagram"),
        (
            {"phone": TEL, "channel": "sms", "purpose": "spam"},
            "purpose must be one of marketing, transactional",
        ),
        ({"phone": "call me", "channel": "sms"}, "not a phone number"),
        ({"channel": "sms"}, "query.phone"),
    ],
)
def test_a_bad_consent_question_is_400_with_the_reason(
    client: TestClient, params: dict[str, str], error: str
) -> None:
    response = client.get("/api/v1/consent", params=params)
    assert response.status_code == 400 and error in response.json()["error"]


def test_the_consent_question_needs_a_token(settings: Settings, engine: Engine) -> None:
    with api_client(settings, engine, token=None) as anonymous:
        assert anonymous.get("/api/v1/consent", params={"phone": TEL, "channel": "sms"}).status_code == 401


# --- opt-outs survive ---------------------------------------------------------------------------


def test_an_opt_out_survives_the_phone_moving_to_someone_else(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi, I'm A"))
    pipe.run(pipe.sms(TEL, "STOP"))
    first = owner(client, TEL)
    pipe.admin("mark_shared", phone=TEL)
    pipe.admin("unmark_shared", phone=TEL)
    # The number comes back unowned, and someone else claims it first: a new customer owns it.
    pipe.run(pipe.instagram("igsid-bea", "hi, it's Bea, my number is 916-555-1234", name="Bea Stone"))
    second = owner(client, TEL)
    assert second != first
    assert answer(client, TEL, purpose="transactional") == ("opted_out", False, "opted_out")
    card = client.get(f"/api/v1/customers/{second}/timeline").json()["customer"]
    assert [(c["phone"], c["status"]) for c in card["consent"]] == [(TEL, "opted_out")]


def test_an_opt_out_survives_erasure_and_the_person_coming_back(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    pipe.run(pipe.sms(TEL, "STOP"))
    pipe.admin("erase_customer", customer_id=owner(client, TEL))
    body = consent(client, TEL, purpose="transactional")
    assert (body["status"], body["may_send"], body["evidence"]["erased"]) == ("opted_out", False, True)
    assert body["evidence"]["keyword"] == "STOP"
    pipe.run(pipe.sms(TEL, "hi again"))  # a new person, who never said START: still opted out
    assert answer(client, TEL, purpose="transactional") == ("opted_out", False, "opted_out")
    card = client.get(f"/api/v1/customers/{owner(client, TEL)}/timeline").json()["customer"]
    assert [(c["phone"], c["status"], c["keyword"]) for c in card["consent"]] == [(TEL, "opted_out", "STOP")]
    pipe.run(pipe.sms(TEL, "START"))
    assert answer(client, TEL) == ("opted_in", True, "opted_in")


def test_an_opt_in_does_not_survive_erasure(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "START"))
    assert answer(client, TEL) == ("opted_in", True, "opted_in")
    pipe.admin("erase_customer", customer_id=owner(client, TEL))
    assert answer(client, TEL) == ("unknown", False, "marketing_needs_opt_in")
