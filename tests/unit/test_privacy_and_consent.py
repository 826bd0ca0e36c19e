"""Privacy helpers, the log filter, and consent keywords."""

from __future__ import annotations

import hashlib
import hmac
import logging

import pytest

from phoneunify.logs import MaskPhones
from phoneunify.privacy import identity_key, mask, phone_key, thread_key_hash
from workers.domain.consent import keyword_signal


def test_phone_key_is_stable_keyed_and_hides_the_number() -> None:
    a = phone_key("+19165551234", "k1")
    assert a == phone_key("+19165551234", "k1")
    assert a != phone_key("+19165551234", "k2") != phone_key("+19165551235", "k1")
    assert "9165551234" not in a
    assert thread_key_hash("twilio:+1:+19165551234", "k").startswith("th_")


def test_pseudonyms_are_the_stored_ones_whatever_was_hashed_before() -> None:
    """Pseudonyms are stored (the erasure fence, consent rows): each is the first 32 hex digits
    of HMAC-SHA256 of the value under the key, however many values and keys came before."""
    cases = [("+19165551234", "k1"), ("+19165551234", "k2"), ("+447700900123", "k1"), ("é\x1f", "ключ")]
    for _ in range(2):
        for value, key in cases:
            expected = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
            assert phone_key(value, key) == "ph_" + expected
            assert thread_key_hash(value, key) == "th_" + expected
    assert (
        identity_key("sms", "+19165550000", "+19165551234", "k")
        == "id_" + (hmac.new(b"k", b"sms\x1f+19165550000\x1f+19165551234", hashlib.sha256).hexdigest()[:32])
    )


def test_mask_keeps_only_the_last_two_digits() -> None:
    assert mask("+19165551234") == "+*********34"


@pytest.mark.parametrize("message", ["lookup failed for +1 916 555 1234", "phone (916) 555-1234 rejected"])
def test_log_filter_masks_phone_numbers(message: str) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None)
    MaskPhones().filter(record)
    assert "555" not in record.getMessage()


@pytest.mark.parametrize(
    "text, channel, direction, expected",
    [
        ("STOP", "sms", "in", "opted_out"),
        ("stop.", "sms", "in", "opted_out"),
        ("Opt out", "whatsapp", "in", "opted_out"),
        ("REVOKE", "sms", "in", "opted_out"),
        ("unsubscribe", "sms", "in", "opted_out"),
        ("START", "sms", "in", "opted_in"),
        ("Unstop", "sms", "in", "opted_in"),
        ("stop by tomorrow?", "sms", "in", None),
        ("STOP", "sms", "out", None),
        ("STOP", "instagram", "in", None),
    ],
)
def test_consent_keywords(text: str, channel: str, direction: str, expected: str | None) -> None:
    signal = keyword_signal(text, channel, direction)
    assert (signal.status if signal else None) == expected
