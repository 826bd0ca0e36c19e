"""Admin commands end to end: POST to the API -> identity.commands on Kafka -> the workers apply
it -> the timeline writer projects its events -> the API answers differently.

A merge makes the merged id answer 308 to the survivor, whose timeline holds both sides
(including a message sent to the merged side after the merge); a split gives each side back
exactly its own timeline.
"""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Stack
from tests.harness import wait_for

pytestmark = pytest.mark.infra

BUSINESS = "+19165550000"
IG = "17841400000000400"


def call(stack: Stack, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any, str]:
    """One request, redirects not followed: (status, JSON body, Location)."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.settings.api_port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {stack.api.token}", "Content-Type": "application/json"}
        connection.request(method, path, body=json.dumps(body).encode() if body else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None, response.getheader("Location") or ""
    finally:
        connection.close()


def command(stack: Stack, action: str, **params: str) -> list[str]:
    """POST a command, then wait until the workers applied it; returns its events' types."""
    status, body, _ = call(stack, "POST", "/api/v1/admin/commands", {"action": action, "params": params})
    assert status == 202, body
    command_id = body["command_id"]

    def applied() -> list[str] | None:
        status, state, _ = call(stack, "GET", f"/api/v1/admin/commands/{command_id}")
        return state["events"] if status == 200 else None

    return wait_for(applied, timeout=60, what=f"the workers to apply {action}")


def texts(stack: Stack, customer: str) -> list[str]:
    status, body, _ = call(stack, "GET", f"/api/v1/customers/{customer}/timeline?limit=500")
    assert status == 200, body
    return sorted(c["content"] for c in body["conversations"] if c["kind"] == "message")


def customer_of(stack: Stack, phone: str) -> str | None:
    body = stack.api.timeline_for_phone(phone)
    return str(body["customer"]["id"]) if body else None


def test_merge_through_the_api_redirects_and_a_split_restores_both(stack: Stack) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=1)
    sim = stack.sim
    assert sim.twilio_sms("SM" + "1" * 32, "+19165554001", BUSINESS, "A: table for two?").status == 200
    assert sim.twilio_sms("SM" + "2" * 32, "+19165554002", BUSINESS, "B: hello").status == 200
    dm = sim.meta_dm("instagram", IG, "ig-admin-b", "mid.admin.1", "B: my number is 916-555-4002", t0)
    assert dm.status == 200
    a = wait_for(lambda: customer_of(stack, "+19165554001"), timeout=90, what="customer A")
    b = wait_for(
        lambda: (
            customer_of(stack, "+19165554002")
            if len(texts(stack, customer_of(stack, "+19165554002") or a)) == 2
            else None
        ),
        timeout=90,
        what="customer B with both messages",
    )
    assert a != b

    assert command(stack, "merge", survivor_id=a, merged_id=b) == ["customers.merged"]
    status, _, location = call(stack, "GET", f"/api/v1/customers/{b}/timeline?limit=50")
    assert status == 308
    assert location.endswith(f"/api/v1/customers/{a}/timeline?limit=50")
    status, _, location = call(stack, "GET", f"/api/v1/customers/{b}/ledger")
    assert status == 308 and location.endswith(f"/api/v1/customers/{a}/ledger")

    # Sent to B's phone while merged: it joins the survivor's timeline.
    assert sim.twilio_sms("SM" + "3" * 32, "+19165554002", BUSINESS, "B: sent while merged").status == 200
    both = ["A: table for two?", "B: hello", "B: my number is 916-555-4002", "B: sent while merged"]
    wait_for(lambda: texts(stack, a) == both, timeout=60, what="both sides on the survivor's timeline")
    status, body, _ = call(stack, "GET", f"/api/v1/customers/{a}/timeline")
    assert body["customer"]["merged_ids"] == [b]
    assert body["customer"]["phones"] == ["+19165554001", "+19165554002"]
    assert [c["kind"] for c in body["conversations"]].count("customers.merged") == 1
    status, found, _ = call(stack, "GET", "/api/v1/customers?phone=916-555-4002")
    assert status == 200 and found["customers"][0]["id"] == a

    assert command(stack, "split", customer_id=b) == ["customer.split"]
    assert texts(stack, a) == ["A: table for two?"]
    assert texts(stack, b) == ["B: hello", "B: my number is 916-555-4002", "B: sent while merged"]
    status, body, _ = call(stack, "GET", f"/api/v1/customers/{b}/timeline")
    assert status == 200 and body["customer"]["merged_ids"] == []
    assert [i["platform"] for i in body["social_identities"]] == ["instagram"]
    status, found, _ = call(stack, "GET", "/api/v1/customers?phone=%28916%29%20555-4002")
    assert found["customers"][0]["id"] == b

    # A command the resolver can tell is wrong never reaches it: the API says why at once.
    status, body, _ = call(stack, "POST", "/api/v1/admin/commands", {"action": "split", "params": {}})
    assert (status, body) == (400, {"error": "split needs customer_id"})
