"""The console's signed cookies and the small helpers its pages trust: pure, so tested as tables."""

from __future__ import annotations

import pytest

from api.console.session import SESSION_SECONDS, Signer, same_token
from api.console.views import highlight, local_path, web_link

KEY = "a-test-console-key-0001"
NOW = 1_800_000_000.0


def test_a_session_cookie_names_its_admin_until_it_expires() -> None:
    signer = Signer(KEY)
    cookie, admin = signer.new_session("ops", now=NOW)
    assert signer.session(cookie, now=NOW + 60) == admin
    assert admin.name == "ops" and len(admin.csrf) >= 32
    assert signer.session(cookie, now=NOW + SESSION_SECONDS) is None


def test_a_cookie_is_worth_nothing_altered_or_elsewhere() -> None:
    signer = Signer(KEY)
    cookie, _ = signer.new_session("ops", now=NOW)
    payload, mac = cookie.split(".")
    forged, _ = Signer("another-key-of-16-chars").new_session("ops", now=NOW)
    login, _ = signer.new_login(now=NOW)
    for bad in (
        forged,  # signed with another key
        login,  # a log-in form's cookie is not a session
        payload[:-2] + "xx." + mac,  # altered payload
        payload + "." + mac[:-2] + "xx",  # altered signature
        "",
        None,
        "no-dot",
        "a.b.c",
    ):
        assert signer.session(bad, now=NOW) is None, bad


def test_the_key_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="16"):
        Signer("short")


@pytest.mark.parametrize(
    ("presented", "expected", "same"),
    [("abc", "abc", True), ("abc", "abd", False), ("", "", False), (None, "abc", False)],
)
def test_csrf_tokens_compare_exactly(presented: str | None, expected: str, same: bool) -> None:
    assert same_token(presented, expected) is same


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/review", "/console/review"),
        ("/console/customers/x?before=y", "/console/customers/x?before=y"),
        ("https://elsewhere.example/console/", "/console/"),
        ("//elsewhere.example/console/", "/console/"),
        ("/api/v1/customers", "/console/"),
        ("/console\\@elsewhere", "/console/"),
        ("", "/console/"),
        (None, "/console/"),
    ],
)
def test_back_and_next_stay_on_the_console(target: str | None, expected: str) -> None:
    assert local_path(target) == expected


@pytest.mark.parametrize(
    ("text", "span", "pieces"),
    [
        ("call 916-555-1234 ok", [5, 17], [("call ", False), ("916-555-1234", True), (" ok", False)]),
        ("916-555-1234", [0, 12], [("916-555-1234", True)]),
        ("short", [3, 99], [("short", False)]),  # a span that does not fit marks nothing
        ("text", None, [("text", False)]),
        (None, [0, 1], []),
    ],
)
def test_highlight_marks_the_evidence(text: str | None, span: object, pieces: list[tuple[str, bool]]) -> None:
    assert highlight(text, span) == pieces


def test_only_http_links_are_links() -> None:
    assert web_link("https://cdn.example/a.jpg") == "https://cdn.example/a.jpg"
    assert web_link("javascript:alert(1)") is None and web_link(None) is None
