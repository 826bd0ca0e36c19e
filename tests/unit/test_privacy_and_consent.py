"""Privacy helpers, the log filter, and consent keywords."""

from __future__ import annotations

import logging

import pytest

from phoneunify.logs import MaskPhones
from phoneunify.privacy import mask, phone_key, thread_key_hash
from workers.domain.consent import keyword_signal


def test_phone_key_is_stable_keyed_and_hides_the_number() -> None:
    a = phone_key("+19165551234", "k1")
    assert a == phone_key("+19165551234", "k1")
    assert a != phone_key("+19165551234", "k2") != phone_key("+19165551235", "k1")
    assert "9165551234" not in a
    assert thread_key_hash("twilio:+1:+19165551234", "k").startswith("th_")


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
