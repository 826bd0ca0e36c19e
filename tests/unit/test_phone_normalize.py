"""Normalization to E.164, channel addresses and the equivalence key, as a table of cases."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workers.domain.phones import (
    NORMALIZER_VERSION,
    PhoneError,
    PhoneErrorReason,
    canonical,
    equivalent,
    mask,
    normalize,
    normalize_channel_address,
)

NORMALIZES = [
    # raw, region, E.164
    ("(916) 555-1234", "US", "+19165551234"),
    ("916-555-1234", "US", "+19165551234"),
    ("+1 916 555 1234", "US", "+19165551234"),
    ("9165551234", "US", "+19165551234"),
    ("1-916-555-1234", "US", "+19165551234"),
    ("916.555.1234 ext. 12", "US", "+19165551234"),  # E.164 has no extension
    ("+44 20 7123 4567", "US", "+442071234567"),  # a '+' number ignores the region
    ("+44 20 7123 4567", None, "+442071234567"),
    ("020 7123 4567", "GB", "+442071234567"),
    ("011 44 20 7123 4567", "US", "+442071234567"),
    ("(11) 98765-4321", "BR", "+5511987654321"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("0151 23456789", "DE", "+4915123456789"),
    ("\uff14\uff11\uff15-\uff15\uff15\uff15-\uff10\uff11\uff12\uff13", "US", "+14155550123"),  # fullwidth
    ("\u0660\u0665\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667", "AE", "+971501234567"),  # Arabic-Indic
]


@pytest.mark.parametrize(("raw", "region", "e164"), NORMALIZES)
def test_normalize_gives_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalize(raw, region) == e164


REJECTS = [
    # raw, region, reason
    ("", "US", PhoneErrorReason.EMPTY),
    ("   ", "US", PhoneErrorReason.EMPTY),
    ("call me", "US", PhoneErrorReason.NOT_A_NUMBER),
    ("12345", "US", PhoneErrorReason.TOO_SHORT),
    ("555-1234", "US", PhoneErrorReason.TOO_SHORT),  # a local number needs its area code
    ("+1 916 555 1234 5678", None, PhoneErrorReason.TOO_LONG),
    ("9165551234", None, PhoneErrorReason.MISSING_REGION),
    ("+999 1234567", None, PhoneErrorReason.INVALID_COUNTRY_CODE),
    ("9165551234", "XX", PhoneErrorReason.INVALID_COUNTRY_CODE),
    ("(123) 456-7890", "US", PhoneErrorReason.INVALID_FOR_REGION),  # no area code 123
    ("+44 7700 900123", None, PhoneErrorReason.INVALID_FOR_REGION),  # Ofcom's drama range
    ("1" * 80, "US", PhoneErrorReason.TOO_LONG),
]


@pytest.mark.parametrize(("raw", "region", "reason"), REJECTS)
def test_normalize_says_why_not(raw: str, region: str | None, reason: PhoneErrorReason) -> None:
    with pytest.raises(PhoneError) as caught:
        normalize(raw, region)
    assert caught.value.reason is reason
    assert isinstance(caught.value, ValueError)


def test_error_messages_mask_the_number() -> None:
    with pytest.raises(PhoneError) as caught:
        normalize("(123) 456-7890", "US")
    assert "456" not in str(caught.value)
    assert "90" in str(caught.value)
    assert mask("+1 916 555 1234") == "+* *** *** **34"


CHANNEL_ADDRESSES = [
    # raw, provider, region, e164, canonical
    ("14155550123", "whatsapp", None, "+14155550123", "+14155550123"),
    ("5511987654321", "whatsapp", None, "+5511987654321", "+5511987654321"),
    # Brazil: WhatsApp still reports many mobiles without the 9th digit; same person.
    ("551187654321", "whatsapp", None, "+551187654321", "+5511987654321"),
    # Mexico: wa_id keeps the retired mobile 1.
    ("5213312345678", "meta", None, "+5213312345678", "+523312345678"),
    # Argentina: the mobile 9 appears or not.
    ("5491123456789", "whatsapp", None, "+5491123456789", "+541123456789"),
    ("whatsapp:+14155550123", "twilio", None, "+14155550123", "+14155550123"),
    ("+14155550123", "twilio", None, "+14155550123", "+14155550123"),
    ("whatsapp:+551187654321", "twilio", None, "+551187654321", "+5511987654321"),
    ("+16505550100", "ringcentral", None, "+16505550100", "+16505550100"),
    ("(916) 555-1234", "booking_form", "US", "+19165551234", "+19165551234"),
]


@pytest.mark.parametrize(("raw", "provider", "region", "e164", "key"), CHANNEL_ADDRESSES)
def test_channel_addresses_keep_raw_and_canonical_apart(
    raw: str, provider: str, region: str | None, e164: str, key: str
) -> None:
    address = normalize_channel_address(raw, provider, region)
    assert (address.raw, address.e164, address.canonical) == (raw, e164, key)
    assert address.provider == provider
    assert address.normalizer_version == NORMALIZER_VERSION


@pytest.mark.parametrize(
    ("raw", "provider", "reason"),
    [
        ("", "whatsapp", PhoneErrorReason.EMPTY),
        ("abc", "whatsapp", PhoneErrorReason.NOT_A_NUMBER),
        ("1 415 555 0123", "whatsapp", PhoneErrorReason.NOT_A_NUMBER),  # a wa_id is digits only
        ("+14155550123", "telegram", PhoneErrorReason.UNKNOWN_PROVIDER),
        ("messenger:1234567890", "twilio", PhoneErrorReason.MISSING_REGION),
        ("(123) 456-7890", "booking_form", PhoneErrorReason.INVALID_FOR_REGION),
    ],
)
def test_channel_address_errors(raw: str, provider: str, reason: PhoneErrorReason) -> None:
    with pytest.raises(PhoneError) as caught:
        normalize_channel_address(raw, provider, "US" if provider == "booking_form" else None)
    assert caught.value.reason is reason


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("+551187654321", "+5511987654321"),
        ("+5491123456789", "+541123456789"),
        ("+5213312345678", "+523312345678"),
    ],
)
def test_equivalent_variants_share_one_key(a: str, b: str) -> None:
    assert equivalent(a, b)
    assert canonical(a) == canonical(b)


@pytest.mark.parametrize(
    "e164",
    ["+14155550123", "+551123456789", "+442071234567", "+523312345678", "+541137970000"],
)
def test_canonical_leaves_other_numbers_alone(e164: str) -> None:
    # Brazilian landlines (subscriber starting 2-5) have no 9th digit to add.
    assert canonical(e164) == e164


def test_canonical_keys_of_wa_ids_are_valid_numbers() -> None:
    for raw, provider, _region, _e164, key in CHANNEL_ADDRESSES:
        assert phonenumbers.is_valid_number(phonenumbers.parse(key, None)), (raw, provider)


@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_canonical_is_idempotent(e164: str) -> None:
    assert canonical(canonical(e164)) == canonical(e164)


@given(st.text(max_size=40), st.sampled_from(["US", "BR", "DE", None]))
def test_normalize_raises_only_phone_errors(raw: str, region: str | None) -> None:
    try:
        result = normalize(raw, region)
    except PhoneError as exc:
        assert isinstance(exc.reason, PhoneErrorReason)
    else:
        assert result.startswith("+") and result[1:].isdigit()
