"""Named admin credentials: parsing, digests, and who a presented token is."""

from __future__ import annotations

import hashlib

import pytest

from phoneunify.credentials import CredentialError, Credentials, parse_entry, plain_token

TOKEN = "a-long-enough-token"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("just-a-token-without-a-name", "is not name:token"),
        ("ops:", "is not name:token"),
        (":" + TOKEN, "credential name"),
        ("o ps:" + TOKEN, "credential name"),
        ("ops:short", "at least 16 characters"),
        ("ops:sha256:abc", "64 lowercase hex"),
        ("ops:sha256:" + "A" * 64, "64 lowercase hex"),
    ],
)
def test_an_unusable_entry_says_why_without_echoing_the_token(entry: str, problem: str) -> None:
    with pytest.raises(CredentialError, match=problem) as raised:
        parse_entry(entry)
    assert TOKEN not in str(raised.value)


def test_a_token_and_a_digest_entry_name_their_admins() -> None:
    digest = hashlib.sha256(b"second-token-of-bea").hexdigest()
    credentials = Credentials([f"ops:{TOKEN}", f"bea:sha256:{digest}", " "])
    assert len(credentials) == 2
    assert credentials.who(TOKEN) == "ops"
    assert credentials.who("second-token-of-bea") == "bea"
    assert credentials.who(TOKEN + "x") is None
    assert credentials.who("") is None


def test_names_are_unique() -> None:
    with pytest.raises(CredentialError, match="unique: ops"):
        Credentials([f"ops:{TOKEN}", f"ops:{TOKEN}-2"])


def test_the_token_is_not_kept_in_memory() -> None:
    credentials = Credentials([f"ops:{TOKEN}"])
    assert TOKEN not in repr(vars(credentials))


@pytest.mark.parametrize(
    ("entry", "token"),
    [(f"ops:{TOKEN}", TOKEN), ("ops:sha256:" + "0" * 64, None), ("ops", None)],
)
def test_plain_token_is_only_the_presentable_kind(entry: str, token: str | None) -> None:
    assert plain_token(entry) == token
