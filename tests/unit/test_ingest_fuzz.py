"""Hostile and malformed requests at every endpoint: never a 5xx, every 4xx a JSON error, and
nothing published unless the request was authentic and well-formed (in which case every
published record still meets the raw envelope schema).

Four attacks, a few thousand requests in all (see MAX_EXAMPLES):
- unsigned noise: any method, path, headers, content type and body bytes;
- validly signed random JSON, including deep nesting, huge numbers and lone surrogates;
- validly signed real fixtures with one field replaced by a hostile value or removed;
- validly signed Twilio forms with parameters dropped, added or replaced.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.fakes import FIXTURES, PATHS, fixture_bytes, make_harness, meta_signature, schema_errors

MAX_EXAMPLES = {"noise": 1500, "signed_json": 1000, "mutated": 1500, "twilio_form": 800, "handshake": 300}


def fuzz(attack: str) -> settings:
    return settings(
        max_examples=MAX_EXAMPLES[attack],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


JSON_PROVIDERS = ("messenger", "instagram", "whatsapp", "ringcentral", "booking")
JSON_FIXTURES = sorted(
    (path.parent.name, path.name)
    for path in FIXTURES.glob("*/*.json")
    if path.parent.name in JSON_PROVIDERS and not path.name.startswith("verify_get")
)

header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "0", " ", "\x00", "\ud83d", "wamid.", "SM1", "+14155550132"]),
    st.integers(min_value=300, max_value=5000).map(lambda n: "9" * n),  # past int() and id limits
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)


@st.composite
def deeply_nested(draw: st.DrawFn) -> Any:
    value = draw(scalars)
    for _ in range(draw(st.integers(min_value=1, max_value=300))):
        value = [value] if draw(st.booleans()) else {"entry": value}
    return value


hostile_json = st.one_of(json_values, deeply_nested())


@pytest.fixture(scope="module")
def h():
    return make_harness()


def check(h, response, before: int, authentic: bool) -> None:
    """The invariants every request must keep."""
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if 400 <= response.status_code < 500 and response.request.method != "HEAD":
        assert isinstance(response.json().get("error"), str)
    published = h.publisher.records[before:]
    event(f"{response.status_code}, {'published' if published else 'nothing published'}")
    if not authentic or response.status_code >= 300:
        assert published == []
    for record in published:
        assert schema_errors(record.value) == []


def sign(h, provider: str, body: bytes) -> dict[str, str]:
    """The headers that make `body` authentic for `provider`."""
    if provider in ("messenger", "whatsapp"):
        return {"X-Hub-Signature-256": meta_signature(h.settings.meta_app_secret, body)}
    if provider == "instagram":
        return {"X-Hub-Signature-256": meta_signature(h.settings.instagram_app_secret, body)}
    if provider == "ringcentral":
        return {"Verification-Token": h.settings.ringcentral_verification_token}
    if provider == "booking":
        return {"X-Api-Key": h.settings.booking_api_key}
    raise AssertionError(provider)


@fuzz("noise")
@given(
    method=st.one_of(st.just("POST"), st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"])),
    path=st.one_of(
        st.sampled_from(list(PATHS.values())),
        st.sampled_from(
            ["/healthz", "/metrics", "/", "/webhooks/meta", "/webhooks/../etc", "/webhooks/twilio/sms/"]
        ),
    ),
    query=st.dictionaries(header_text, header_text, max_size=3),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "X-Hub-Signature-256",
                "X-Twilio-Signature",
                "Verification-Token",
                "Validation-Token",
                "X-Api-Key",
                "X-Signature-256",
                "Content-Type",
                "Content-Length",
                "X-Anything",
            ]
        ),
        header_text,
        max_size=4,
    ),
    body=st.one_of(st.binary(max_size=600), json_values.map(lambda v: json.dumps(v).encode())),
)
def test_unsigned_noise(h, method, path, query, headers, body):
    if "Content-Length" in headers:
        headers = {**headers, "Content-Length": headers["Content-Length"][:8]}
    before = len(h.publisher.records)
    url = path + ("?" + urlencode(query) if query else "")
    response = h.client.request(method, url, content=body, headers=headers)
    check(h, response, before, authentic=False)


@fuzz("signed_json")
@given(provider=st.sampled_from(JSON_PROVIDERS), payload=hostile_json, ascii_only=st.booleans())
def test_signed_random_json(h, provider, payload, ascii_only):
    body = json.dumps(payload, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    before = len(h.publisher.records)
    response = h.send.post(provider, body, {"Content-Type": "application/json", **sign(h, provider, body)})
    check(h, response, before, authentic=True)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


FIXTURE_PATHS = {
    (provider, name): _paths(json.loads(fixture_bytes(provider, name))) for provider, name in JSON_FIXTURES
}


@st.composite
def mutated_fixture(draw: st.DrawFn) -> tuple[str, bytes]:
    provider, name = draw(st.sampled_from(JSON_FIXTURES))
    payload = json.loads(fixture_bytes(provider, name))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(payload)
        if not paths:
            break
        where = draw(st.sampled_from(paths))
        parent = payload
        for step in where[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(hostile_json)
    return provider, json.dumps(payload).encode("utf-8", "surrogatepass")


@fuzz("mutated")
@given(case=mutated_fixture())
def test_signed_fixtures_with_hostile_fields(h, case):
    provider, body = case
    before = len(h.publisher.records)
    response = h.send.post(provider, body, {"Content-Type": "application/json", **sign(h, provider, body)})
    check(h, response, before, authentic=True)


TWILIO_FIXTURES = sorted(path.name for path in FIXTURES.glob("twilio/*.txt"))
form_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)  # forms are UTF-8


@st.composite
def twilio_form(draw: st.DrawFn) -> bytes:
    params = parse_qsl(
        fixture_bytes("twilio", draw(st.sampled_from(TWILIO_FIXTURES))).decode(), keep_blank_values=True
    )
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        action = draw(st.sampled_from(["drop", "replace", "add", "duplicate"]))
        if action == "drop" and params:
            params.pop(draw(st.integers(min_value=0, max_value=len(params) - 1)))
        elif action == "replace" and params:
            index = draw(st.integers(min_value=0, max_value=len(params) - 1))
            params[index] = (params[index][0], draw(form_text))
        elif action == "duplicate" and params:
            params.append(params[draw(st.integers(min_value=0, max_value=len(params) - 1))])
        else:
            name = draw(
                st.sampled_from(
                    ["Body", "From", "To", "MessageStatus", "NumMedia", "MediaUrl0", "OptOutType"]
                )
            )
            params.append((draw(st.one_of(st.just(name), form_text)), draw(form_text)))
    return urlencode(params).encode()


@fuzz("twilio_form")
@given(body=twilio_form())
def test_signed_twilio_forms(h, body):
    before = len(h.publisher.records)
    response = h.send.twilio(body)
    check(h, response, before, authentic=True)


@fuzz("handshake")
@given(
    product=st.sampled_from(["messenger", "instagram", "whatsapp"]),
    params=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "hub_mode", "hub_challenge", "x"]),
        st.one_of(st.just("subscribe"), st.just("meatyhamhock"), st.text(max_size=300)),
        max_size=4,
    ),
)
def test_meta_handshake_parameters(h, product, params):
    before = len(h.publisher.records)
    response = h.client.get(PATHS[product], params=params)
    check(h, response, before, authentic=False)
    if response.status_code == 200:
        assert response.text == (params.get("hub.challenge", params.get("hub_challenge")))


def test_absurd_nesting_is_a_400(h):
    body = b"[" * 100_000 + b"]" * 100_000
    response = h.send.meta("messenger", body)
    assert response.status_code == 400
    assert response.json() == {"error": "body is not valid JSON"}


def test_example_budget_is_in_the_thousands():
    assert sum(MAX_EXAMPLES.values()) >= 5000
