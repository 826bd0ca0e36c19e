"""Consent through the API: keywords and provider signals, per phone and channel, decided by the
time each message was sent, and never lost on merge, split, phone change or a shared mark.

Messages go through the real extract stage and resolver (which write the consent ledger) and
the real timeline projection; the API reads the ledger. Keywords follow Twilio's rule: the
keyword must be the whole message (case and surrounding punctuation aside), so "stop by
tomorrow" is a visit, not an opt-out.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from ingest.providers.twilio import map_params, parse_form
from schema.envelopes import RawEnvelope, utc_iso
from tests.integration.builders import BUSINESS, Pipeline, at, retimed

pytestmark = pytest.mark.infra

TEL = "+19165551234"
OTHER = "+19165557777"

OPT_OUT_KEYWORDS = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"]
OPT_IN_KEYWORDS = ["START", "UNSTOP", "YES"]
NOT_KEYWORDS = [
    "stop by tomorrow",
    "Can you stop by tomorrow?",
    "Please stop texting me after 9pm",
    "I need to cancel my booking",
    "END of the day works",
    "yes please, 8 people",
    "start time?",
    "STOP STOP",
    "S T O P",
]


def variants(keyword: str) -> list[str]:
    """How people type a keyword: any case, stray spaces or newlines, a trailing mark."""
    return [keyword, keyword.lower(), f"  {keyword.title()}\n", f"{keyword.lower()}!", f"{keyword}."]


def card(client: TestClient, phone: str) -> dict[str, Any]:
    """The customer card as the timeline shows it (the lookup shows the same card)."""
    response = client.get("/api/v1/customers", params={"phone": phone})
    assert response.status_code == 200, response.text
    found = response.json()["customers"][0]
    body = client.get(f"/api/v1/customers/{found['id']}/timeline").json()
    assert body["customer"] == found
    customer: dict[str, Any] = body["customer"]
    return customer


def statuses(client: TestClient, phone: str) -> dict[tuple[str, str], str]:
    return {(c["phone"], c["channel"]): c["status"] for c in card(client, phone)["consent"]}


def may_send(client: TestClient, phone: str) -> bool:
    """The consent API's answer for SMS, for a message about the customer's own business."""
    params = {"phone": phone, "channel": "sms", "purpose": "transactional"}
    answer: bool = client.get("/api/v1/consent", params=params).json()["may_send"]
    return answer


def test_stop_then_start(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(retimed(pipe.sms(TEL, "Hi, table for two?"), at(0)))
    assert card(client, TEL)["consent"] == []

    pipe.run(retimed(pipe.sms(TEL, "STOP"), at(10)))
    (consent,) = card(client, TEL)["consent"]
    assert consent == {
        "phone": TEL,
        "channel": "sms",
        "status": "opted_out",
        "source": "keyword",
        "keyword": "STOP",
        "at": "2026-03-06T17:10:00+00:00",
    }
    me = card(client, TEL)["id"]
    changes = [
        c
        for c in client.get(f"/api/v1/customers/{me}/timeline").json()["conversations"]
        if c["type"] == "consent"
    ]
    assert [(c["event"], c["content"]) for c in changes] == [
        ("consent.changed", "Consent changed: opted_out on sms (STOP)")
    ]

    pipe.run(retimed(pipe.sms(TEL, "start"), at(20)))
    assert statuses(client, TEL) == {(TEL, "sms"): "opted_in"}
    assert card(client, TEL)["consent"][0]["keyword"] == "START"


def test_every_keyword_in_every_spelling_and_nothing_else(pipe: Pipeline, client: TestClient) -> None:
    cases: list[tuple[str, str, str | None]] = []
    for keyword in OPT_OUT_KEYWORDS:
        cases += [(text, keyword, "opted_out") for text in variants(keyword)]
    cases += [("Opt-Out", "OPT OUT", "opted_out"), ("stop all", "STOP ALL", "opted_out")]
    for keyword in OPT_IN_KEYWORDS:
        cases += [(text, keyword, "opted_in") for text in variants(keyword)]
    cases += [(text, "", None) for text in NOT_KEYWORDS]

    phones = [f"+1916555{2000 + i:04d}" for i in range(len(cases))]
    for phone, (text, _, _) in zip(phones, cases, strict=True):
        pipe.run(pipe.sms(phone, text))
    for phone, (text, keyword, expected) in zip(phones, cases, strict=True):
        consent = card(client, phone)["consent"]
        if expected is None:
            assert consent == [], f"{text!r} is not a keyword"
        else:
            assert [(c["channel"], c["status"], c["keyword"]) for c in consent] == [
                ("sms", expected, keyword)
            ], f"{text!r}"


def test_keywords_count_on_whatsapp_but_not_in_dms_or_from_the_business(
    pipe: Pipeline, client: TestClient
) -> None:
    pipe.run(pipe.whatsapp("19165551234", "stop", name="Wendy"))
    assert statuses(client, TEL) == {(TEL, "whatsapp"): "opted_out"}  # per channel: SMS untouched

    pipe.run(pipe.sms(OTHER, "hello"))
    pipe.run(pipe.sms(OTHER, "Reply STOP to opt out", direction="out"))  # the business's own text
    pipe.run(pipe.sms(OTHER, "STOP", direction="out"))
    pipe.run(pipe.instagram("igsid-o", "my number is 916-555-7777", name="Olga"))
    pipe.run(pipe.instagram("igsid-o", "STOP", name="Olga"))  # no carrier keyword handling in DMs
    assert card(client, OTHER)["consent"] == []


def twilio(sid: str, body: str, opt_out_type: str | None, phone: str = TEL) -> list[RawEnvelope]:
    """What the Twilio adapter makes of an inbound webhook (Advanced Opt-Out adds OptOutType)."""
    form = {"MessageSid": sid, "From": phone, "To": BUSINESS, "Body": body, "SmsStatus": "received"}
    if opt_out_type:
        form["OptOutType"] = opt_out_type
    mapped = map_params(parse_form(urlencode(form).encode()), utc_iso(at(int(sid[-2:]))))
    return list(mapped.envelopes)


def test_twilio_opt_out_type_is_recorded_as_the_providers_signal(pipe: Pipeline, client: TestClient) -> None:
    # A custom opt-out keyword configured in Twilio's Advanced Opt-Out: only the provider knows.
    envelopes = twilio("SM01", "ARRET", "STOP")
    assert [e.kind for e in envelopes] == ["message", "consent"]
    pipe.run(*envelopes)
    (consent,) = card(client, TEL)["consent"]
    assert (consent["status"], consent["source"], consent["keyword"]) == ("opted_out", "provider", None)
    body = client.get(f"/api/v1/customers/{card(client, TEL)['id']}/timeline").json()
    assert sorted(c["content"] for c in body["conversations"] if c["type"] == "consent") == [
        "Consent changed: opted_out on sms (provider)",
        "twilio reported opt-out",
    ]
    assert [c["content"] for c in body["conversations"] if c["type"] == "sms"] == ["ARRET"]

    pipe.run(*twilio("SM02", "COMMENCER", "START"))
    (consent,) = card(client, TEL)["consent"]
    assert (consent["status"], consent["source"]) == ("opted_in", "provider")

    # HELP changes nothing; a plain STOP carries both signals and they agree.
    pipe.run(*twilio("SM03", "HELP", "HELP"))
    assert statuses(client, TEL) == {(TEL, "sms"): "opted_in"}
    pipe.run(*twilio("SM04", "STOP", "STOP"))
    assert statuses(client, TEL) == {(TEL, "sms"): "opted_out"}


def test_the_status_follows_when_messages_were_sent_not_when_they_arrived(
    pipe: Pipeline, client: TestClient
) -> None:
    """Two numbers get the same two messages in opposite arrival orders: same answer."""
    third = "+19165552222"
    # STOP sent at :10, START sent at :05 (delivered late): still opted out.
    pipe.run(retimed(pipe.sms(TEL, "START"), at(5)))
    pipe.run(retimed(pipe.sms(TEL, "STOP"), at(10)))
    pipe.run(retimed(pipe.sms(OTHER, "STOP"), at(10)))
    pipe.run(retimed(pipe.sms(OTHER, "START"), at(5)))
    # And the other way round: START sent after STOP wins whatever the arrival order.
    pipe.run(retimed(pipe.sms(third, "START"), at(10)))
    pipe.run(retimed(pipe.sms(third, "STOP"), at(5)))
    assert statuses(client, TEL) == {(TEL, "sms"): "opted_out"}
    assert statuses(client, OTHER) == {(OTHER, "sms"): "opted_out"}
    assert statuses(client, third) == {(third, "sms"): "opted_in"}
    assert card(client, OTHER)["consent"][0]["at"] == "2026-03-06T17:10:00+00:00"


def test_an_opt_out_survives_merge_and_split(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi, I'm A"))
    pipe.run(pipe.sms(TEL, "START"))
    pipe.run(pipe.sms(OTHER, "hi, I'm B"))
    pipe.run(pipe.sms(OTHER, "STOP"))
    a, b = card(client, TEL)["id"], card(client, OTHER)["id"]

    pipe.admin("merge", survivor_id=a, merged_id=b)
    # The survivor shows the merged side's opt-out next to its own opt-in: nothing inherited away.
    assert statuses(client, TEL) == {(TEL, "sms"): "opted_in", (OTHER, "sms"): "opted_out"}
    assert may_send(client, OTHER) is False and may_send(client, TEL) is True
    # An opt-in from the survivor's number does not touch the merged number's opt-out.
    pipe.run(pipe.sms(TEL, "YES"))
    assert statuses(client, OTHER) == {(TEL, "sms"): "opted_in", (OTHER, "sms"): "opted_out"}

    pipe.admin("split", customer_id=b)
    assert card(client, OTHER)["id"] == b
    assert statuses(client, OTHER) == {(OTHER, "sms"): "opted_out"}  # the side with the phone
    assert statuses(client, TEL) == {(TEL, "sms"): "opted_in"}
    assert may_send(client, OTHER) is False and may_send(client, TEL) is True


def test_an_opt_out_stays_when_the_customer_gains_a_new_number(pipe: Pipeline, client: TestClient) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    pipe.run(pipe.instagram("igsid-dan", "it's Dan, my number is 916-555-1234", name="Dan Ortiz"))
    pipe.run(pipe.sms(TEL, "STOP"))
    pipe.run(pipe.instagram("igsid-dan", "my new cell is 916-555-7777", name="Dan Ortiz"))
    dan = card(client, TEL)
    assert dan["phones"] == [TEL, OTHER]
    assert statuses(client, OTHER) == {(TEL, "sms"): "opted_out"}  # the new number has no status yet

    pipe.run(pipe.sms(OTHER, "START"))  # opting in on the new number
    assert card(client, OTHER)["id"] == dan["id"]
    assert statuses(client, OTHER) == {(TEL, "sms"): "opted_out", (OTHER, "sms"): "opted_in"}


def test_an_opt_out_stays_on_the_card_when_the_phone_is_marked_shared(
    pipe: Pipeline, client: TestClient
) -> None:
    pipe.run(pipe.sms(TEL, "hi"))
    pipe.run(pipe.sms(TEL, "STOP"))
    me = card(client, TEL)["id"]
    pipe.admin("mark_shared", phone=TEL)
    body = client.get(f"/api/v1/customers/{me}/timeline").json()
    assert body["customer"]["phones"] == []  # the phone links nobody now
    assert [(c["phone"], c["status"]) for c in body["customer"]["consent"]] == [(TEL, "opted_out")]
