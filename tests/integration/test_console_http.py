"""The console over HTTP on the real PostgreSQL (FastAPI's TestClient): log-in, the session
cookie's flags, CSRF on every form, log-out, the pages a person reads, and a decision sent from a
form taking the same path as the JSON API's (the recording publisher shows what was queued).
The browser tests (tests/browser) drive the same pages in Chromium over the real stack."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from api.app import create_app
from phoneunify.settings import Settings
from tests.integration.builders import TOKEN, Pipeline, RecordingPublisher, api_client, at, retimed

pytestmark = pytest.mark.infra

TEL = "+19165551234"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def published() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def browser(settings: Settings, engine: Engine, published: RecordingPublisher) -> Iterator[TestClient]:
    """A client with no bearer token: the console's own cookies are its only credentials."""
    with api_client(settings, engine, published, token=None) as client:
        yield client


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html[:500]
    return found.group(1)


def log_in(client: TestClient, token: str = TOKEN, next_: str = "") -> Any:
    form = client.get("/console/login", params={"next": next_} if next_ else None)
    assert form.status_code == 200
    return client.post(
        "/console/login", data={"token": token, "csrf": csrf_of(form.text), "next": next_ or "/console/"}
    )


def seed_john(pipe: Pipeline) -> None:
    pipe.run(retimed(pipe.sms(TEL, "Do you do birthdays?", provider="ringcentral"), at(0)))
    fb = pipe.messenger("6100000000000001", "Hi! I asked about birthdays. My number is 916-555-1234")
    pipe.run(retimed(fb, at(60)))
    form = pipe.booking("bk-john", name="John Doe", email="john@example.com", phone="(916) 555-1234")
    pipe.run(retimed(form, at(120)))


def test_pages_need_a_session_and_log_in_sets_a_strict_httponly_cookie(browser: TestClient) -> None:
    first = browser.get("/console/review")
    assert first.status_code == 303
    assert first.headers["location"] == "/console/login?next=%2Fconsole%2Freview"

    done = log_in(browser, next_="/console/review")
    assert done.status_code == 303 and done.headers["location"] == "/console/review"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("pu_console="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= flags
    assert "secure" not in flags  # plain http here; https requests get Secure
    page = browser.get("/console/review")
    assert page.status_code == 200 and "Signed in as" in page.text and "ops" in page.text
    assert page.headers["x-frame-options"] == "DENY" and "no-store" in page.headers["cache-control"]
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_wrong_token_or_a_forged_log_in_form_gets_no_session(browser: TestClient) -> None:
    wrong = log_in(browser, token="not-a-real-token-0000")
    assert wrong.status_code == 401 and "not an admin token" in wrong.text
    assert "pu_console=" not in wrong.headers.get("set-cookie", "")

    browser.cookies.clear()
    forged = browser.post("/console/login", data={"token": TOKEN, "csrf": "made-up", "next": "/console/"})
    assert forged.status_code == 403 and "pu_console=" not in forged.headers.get("set-cookie", "")
    # `next` never leads off the console.
    done = log_in(browser, next_="https://elsewhere.example/")
    assert done.headers["location"] == "/console/"


def test_every_form_needs_the_sessions_csrf_token(
    pipe: Pipeline, browser: TestClient, published: RecordingPublisher
) -> None:
    seed_john(pipe)
    log_in(browser)
    url = customer_url(browser, "(916) 555-1234")
    token = csrf_of(browser.get(url).text)
    phone = {"action": "mark_shared", "phone": TEL, "back": url}

    for forged in ({**phone}, {**phone, "csrf": "not-the-token"}):
        refused = browser.post("/console/commands", data=forged)
        assert refused.status_code == 403 and "expired" in refused.text
    assert published.records == []

    sent = browser.post("/console/commands", data={**phone, "csrf": token, "actor": "someone-else"})
    assert sent.status_code == 303 and sent.headers["location"].startswith("/console/commands/")
    (record,) = published.records
    command = json.loads(record.value)
    assert (command["action"], command["actor"], command["params"]) == ("mark_shared", "ops", {"phone": TEL})
    progress = browser.get(sent.headers["location"])
    assert "Pending: not applied yet." in progress.text

    # Refused by the same checks as the JSON API, with the reason shown.
    bad = browser.post("/console/commands", data={"action": "split", "customer_id": "nope", "csrf": token})
    assert bad.status_code == 400 and "customer_id is not a UUID" in bad.text

    out = browser.post("/console/logout", data={"csrf": token})
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert browser.get("/console/").status_code == 303


def test_the_customer_page_shows_the_whole_story(pipe: Pipeline, browser: TestClient) -> None:
    seed_john(pipe)
    log_in(browser)
    url = customer_url(browser, "(916) 555-1234")
    page = browser.get(url).text
    assert "Customer: John Doe" in page and "(+19165551234)" in page
    for text in ("Do you do birthdays?", "My number is 916-555-1234", "john@example.com"):
        assert text in page
    assert "BOOKING CREATED" in page and "booking inquiry" in page
    assert "6100000000000001" in page  # the Messenger sender, by id until its profile is known

    why = browser.get(url + "/why").text
    assert "<mark>916-555-1234</mark>" in why  # the evidence, highlighted in the message

    live = browser.get(url + "/live", params={"v": "stale"}, headers={"X-Console-Poll": "1"})
    assert live.status_code == 200 and "Do you do birthdays?" in live.json()["html"]
    same = browser.get(url + "/live", params={"v": live.json()["version"]}, headers={"X-Console-Poll": "1"})
    assert same.status_code == 204


def test_without_a_session_key_the_console_refuses_and_the_api_still_works(
    settings: Settings, engine: Engine
) -> None:
    bare = dataclasses.replace(settings, console_session_key="", api_tokens=(f"ops:{TOKEN}",))
    app = create_app(bare, engine, RecordingPublisher(), CollectorRegistry())
    with TestClient(app) as client:
        page = client.get("/console/login")
        assert page.status_code == 503 and "PHONEUNIFY_CONSOLE_SESSION_KEY" in page.text
        assert client.get("/healthz").status_code == 200


def test_every_admin_action_the_api_has_is_a_button_in_the_console(
    pipe: Pipeline, browser: TestClient
) -> None:
    """Each action of schema.commands is offered on some page, with its parameters filled in."""
    from schema.commands import ACTIONS, SYSTEM_ACTIONS

    seed_john(pipe)
    pipe.run(pipe.sms("+19165551111", "hi"))
    pipe.run(pipe.sms("+19165552222", "hello"))
    pipe.run(pipe.instagram("igsid-pat", "my number is 916-555-1111"))
    pipe.run(pipe.instagram("igsid-pat", "916-555-2222"))  # a question for a person
    pipe.run(pipe.instagram("ig-nobody", "no number here"))  # links nobody
    log_in(browser)
    john = customer_url(browser, "(916) 555-1234")
    pat, other = customer_url(browser, "916-555-1111"), customer_url(browser, "916-555-2222")
    review = browser.get("/console/review").text
    pipe.admin("merge", survivor_id=pat[-36:], merged_id=other[-36:])  # gives pat a split button
    moved = browser.get(other + "?before=")
    assert moved.status_code == 303 and moved.headers["location"].endswith(pat + "?before=")
    why = browser.get(other + "/why")
    assert why.status_code == 303 and why.headers["location"] == pat + "/why"
    live = browser.get(other + "/live", headers={"X-Console-Poll": "1"})
    assert live.status_code == 200 and live.json() == {"redirect": pat}
    thread = re.search(r'href="(/console/threads/[0-9a-f-]{36})"', review)
    assert thread, review
    pages = [
        browser.get(john).text,
        browser.get(pat).text,  # now holds a merged customer: split
        review,
        browser.get(thread.group(1), params={"q": "john"}).text,
        browser.get("/console/merge", params={"survivor": pat[-36:], "merged": john[-36:]}).text,
        browser.get("/console/customers/new").text,
    ]
    offered = {action for page in pages for action in re.findall(r'data-action="([a-z_]+)"', page)}
    admin_actions = set(ACTIONS) - SYSTEM_ACTIONS  # renormalize is the system's, not a button
    assert admin_actions <= offered, admin_actions - offered


def customer_url(client: TestClient, query: str) -> str:
    found = client.get("/console/", params={"q": query})
    match = re.search(r'href="(/console/customers/[0-9a-f-]{36})"', found.text)
    assert match, found.text
    return match.group(1)


def test_erasing_from_the_console_and_recording_consent(
    pipe: Pipeline, browser: TestClient, published: RecordingPublisher
) -> None:
    """The customer page's two privacy forms take the JSON API's path; once the resolver has
    applied the erasure, the person's pages answer 410."""
    from schema.commands import Command

    seed_john(pipe)
    log_in(browser)
    john = customer_url(browser, "(916) 555-1234")
    page = browser.get(john).text
    token = csrf_of(page)
    consent = browser.post(
        "/console/commands",
        data={
            "csrf": token,
            "action": "set_consent",
            "back": john,
            "phone": TEL,
            "channel": "sms",
            "status": "opted_out",
            "reason": "asked on the phone",
        },
    )
    erase = browser.post(
        "/console/commands",
        data={
            "csrf": token,
            "action": "erase_customer",
            "back": john,
            "customer_id": john[-36:],
            "note": "GDPR 7",
        },
    )
    assert consent.status_code == erase.status_code == 303
    queued = [Command.from_json(r.value) for r in published.records]
    assert [(c.action, c.actor) for c in queued] == [("set_consent", "ops"), ("erase_customer", "ops")]
    assert queued[0].params["reason"] == "asked on the phone" and queued[1].note == "GDPR 7"
    for command in queued:
        pipe.handler.apply(command)  # what the workers' commands agent does with them
    gone = browser.get(john)
    assert gone.status_code == 410 and "Customer erased" in gone.text
    assert browser.get(john + "/why").status_code == 410
    live = browser.get(john + "/live", headers={"X-Console-Poll": "1"})
    assert live.status_code == 410 and live.content == b""  # a poll gets bare statuses, no page
    for unknown in ("/console/customers/not-an-id", "/console/customers/" + "0" * 8 + john[-28:]):
        for suffix in ("", "/why"):
            missing = browser.get(unknown + suffix)
            assert missing.status_code == 404 and "No such customer" in missing.text
        assert browser.get(unknown + "/live", headers={"X-Console-Poll": "1"}).status_code == 404
    assert "John" not in browser.get("/console/", params={"q": "john"}).text
