"""Phone extraction from chat text, as a table of cases that read like the spec."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.domain.phone_fastparse import UNSURE, fast_e164
from workers.domain.phones import MAX_TEXT_CHARS, Candidate, ExtractionContext, Owner, extract, warm_up

BUSINESS = ExtractionContext(business_numbers=frozenset({"+19165550100"}))


def phones(text: str, region: str | None = "US", context: ExtractionContext = BUSINESS) -> list[str]:
    return [c.e164 for c in extract(text, region, context)]


FINDS = [
    # text, region, phones found
    ("Hi! Book for 6 people. Call me at (916) 555-1234 thanks!", "US", ["+19165551234"]),
    ("text me 916.555.1234", "US", ["+19165551234"]),
    ("4155550123", "US", ["+14155550123"]),
    ("1-415-555-0123", "US", ["+14155550123"]),
    ("+44 20 7123 4567", "US", ["+442071234567"]),
    ("011 44 20 7123 4567", "US", ["+442071234567"]),
    ("my UK number is 07911 123456", "US", ["+447911123456"]),  # a named country beats the default
    ("415.555.0123 ext 4", "US", ["+14155550123"]),  # no extension in E.164
    ("(800) 901-3355 , ext 7246433", "US", ["+18009013355"]),
    ("tel 415/555/0123", "US", ["+14155550123"]),
    ("4 1 5 5 5 5 0 1 2 3 is my number", "US", ["+14155550123"]),
    ("\uff14\uff11\uff15-\uff15\uff15\uff15-\uff10\uff11\uff12\uff13", "US", ["+14155550123"]),
    (
        "\u0631\u0642\u0645\u064a \u0660\u0665\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667",
        "AE",
        ["+971501234567"],
    ),
    ("meu zap \u00e9 (11) 98765-4321", "BR", ["+5511987654321"]),
    ("Mon portable : 06 12 34 56 78", "FR", ["+33612345678"]),
    ("Llámame al +52 1 33 1234 5678", "MX", ["+523312345678"]),  # the retired mobile 1
    ("651-234-2345/332-445-1234", "US", ["+16512342345", "+13324451234"]),
    ("(415) 666-7777 (800) 443-1223", "US", ["+14156667777", "+18004431223"]),
    ("My info: 415-666-7777 123 fake street", "US", ["+14156667777"]),
    ("Sacramento CA 95814-2345 (916) 555-0123", "US", ["+19165550123"]),
    ("$20 415-666-7777", "US", ["+14156667777"]),
    ("+14156667777 no region needed", None, ["+14156667777"]),
]


@pytest.mark.parametrize(("text", "region", "expected"), FINDS)
def test_finds_phone_numbers(text: str, region: str | None, expected: list[str]) -> None:
    assert phones(text, region) == expected


DECOYS = [
    # text, region: nothing here is a phone number
    ("Order #4155550123 hasn't shipped", "US"),
    ("my order number is 2125550199", "US"),
    ("Booking ref 4155550134 for saturday", "US"),
    ("Tracking 1Z999AA10123456784", "US"),
    ("FedEx tracking number 7489 1234 5678", "US"),
    ("Amazon order 112-5550134-9921345 arrived", "US"),
    ("Deposit $1,250.00 paid on 11/14/2025 at 3:45pm", "US"),
    ("2012-01-02 08:00", "US"),
    ("ship to Austin TX 78701-1234", "US"),
    ("the router is 192.168.100.200", "US"),
    ("4111 1111 1111 1111 exp 04/28", "US"),
    ("12.1 - 23.71 - 23.45", "US"),
    ("Between 1979-2011 we hosted 100 events", "US"),
    ("$415-666-7777", "US"),
    ("4156667777%", "US"),
    ("CPF 123.456.789-09", "BR"),
    ("Pedido #11987654321 ainda não chegou", "BR"),
    ("Bestellnummer 4930123456", "DE"),
    ("Commande n° 0612345678", "FR"),
    ("The UUID is CA801c26f98cd16e231354125ad046e40b.", "FR"),
    ("9165551234", None),  # no region, no '+': nobody can say which country
]


@pytest.mark.parametrize(("text", "region"), DECOYS)
def test_decoys_are_not_phones(text: str, region: str | None) -> None:
    assert phones(text, region) == []


OWNERS = [
    # text, direction, expected (owner, min confidence, max confidence) per candidate
    ("my number is 415-555-0123", "in", [(Owner.SENDER, 0.9, 1.0)]),
    ("Cell: 415-555-0123", "in", [(Owner.SENDER, 0.9, 1.0)]),
    ("call me at 415-555-0123", "in", [(Owner.SENDER, 0.9, 1.0)]),
    ("415-555-0123", "in", [(Owner.SENDER, 0.6, 0.75)]),
    ("my wife's number is 415-555-0123", "in", [(Owner.OTHER_PERSON, 0.0, 0.3)]),
    ("the venue's number is 415-555-0123", "in", [(Owner.OTHER_PERSON, 0.0, 0.3)]),
    ("call my assistant at 415-555-0123", "in", [(Owner.OTHER_PERSON, 0.0, 0.3)]),
    (
        "My wife's number is 415-555-0123, mine is 650-253-0000",
        "in",
        [(Owner.OTHER_PERSON, 0.0, 0.3), (Owner.SENDER, 0.9, 1.0)],
    ),
    ("I called (916) 555-0100 twice", "in", [(Owner.BUSINESS, 0.0, 0.1)]),
    ("We'll text you at 415-555-0123. — Bella (916) 555-0100", "out", [(Owner.BUSINESS, 0.0, 0.1)] * 2),
]


@pytest.mark.parametrize(("text", "direction", "expected"), OWNERS)
def test_owner_and_confidence(text: str, direction: str, expected: list[tuple[Owner, float, float]]) -> None:
    context = ExtractionContext(direction=direction, business_numbers=BUSINESS.business_numbers)
    found = extract(text, "US", context)
    assert [(c.owner, lo <= c.confidence <= hi) for c, (_, lo, hi) in zip(found, expected, strict=True)] == [
        (owner, True) for owner, _, _ in expected
    ]


def test_candidate_carries_span_raw_and_evidence() -> None:
    text = "Hi, it's Kim. Call me at +1 (415) 555-0117 ext. 22 please"
    (candidate,) = extract(text, "US")
    assert candidate.raw == "+1 (415) 555-0117 ext. 22"
    assert text[candidate.start : candidate.end] == candidate.raw
    assert candidate.e164 == "+14155550117"
    assert "cue:self:call me" in candidate.evidence
    assert "extension" in candidate.evidence
    assert "format:international" in candidate.evidence


def test_spans_point_into_the_original_unicode_text() -> None:
    text = "電話番号は０９０－１２３４－５６７８です"
    (candidate,) = extract(text, "JP")
    assert candidate.raw == "０９０－１２３４－５６７８"
    assert text[candidate.start : candidate.end] == candidate.raw
    assert candidate.e164 == "+819012345678"


def test_only_the_first_characters_are_read() -> None:
    text = "x" * MAX_TEXT_CHARS + " call me at 415-555-0123"
    assert extract(text, "US") == []


def test_max_tries_bounds_failed_runs() -> None:
    noise = "ref 949-8945-0 " * 20
    text = noise + "my cell 415-555-0123"
    assert phones(text, "US") == ["+14155550123"]
    assert extract(text, "US", max_tries=5) == []


def test_many_numbers_are_all_found() -> None:
    assert phones("My info: 415-666-7777," * 100) == ["+14156667777"] * 100


# --- properties -----------------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "415-555-0123",
        "(916) 555-1234",
        "+44 20 7123 4567",
        "order #",
        "my number is ",
        "12/05/2024",
        "$45.00",
        "\uff10\uff19\uff10",
        "\u0660\u0665",
        " ",
        "-",
        "/",
        ".",
        "(",
        ")",
        "+",
        "x",
        "ext. 12",
        "\n",
        "é",
        "我",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(max_size=120), st.lists(_PIECES, max_size=30).map("".join)),
    st.sampled_from(["US", "BR", "DE", "JP", None]),
)
def test_never_raises_and_spans_map_back(text: str, region: str | None) -> None:
    for candidate in extract(text, region, ExtractionContext(direction="in")):
        assert isinstance(candidate, Candidate)
        assert 0 <= candidate.start < candidate.end <= len(text)
        assert text[candidate.start : candidate.end] == candidate.raw
        assert 0.0 <= candidate.confidence <= 1.0
        assert candidate.e164.startswith("+") and candidate.e164[1:].isdigit()


def _slow_e164(digits: str, plus: bool, region: str | None) -> tuple[str, bool] | None:
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, region)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.is_valid_number(number)


def test_fast_path_agrees_with_phonenumbers() -> None:
    """The fast validity path gives phonenumbers' answer whenever it answers at all."""
    warm_up()
    rng = random.Random(7)
    regions = [
        "US",
        "CA",
        "GB",
        "DE",
        "FR",
        "ES",
        "IT",
        "BR",
        "MX",
        "AR",
        "IN",
        "AU",
        "JP",
        "AE",
        "NZ",
        "PL",
        "RU",
    ]
    checked = 0
    for _ in range(6000):
        region = rng.choice(regions)
        plus = rng.random() < 0.3
        example = phonenumbers.example_number_for_type(
            region, rng.choice(list(phonenumbers.PhoneNumberType.values()))
        )
        if example is not None and rng.random() < 0.7:
            national = phonenumbers.national_significant_number(example)
            digits = (str(example.country_code) if plus else rng.choice(["", "0", "00", "011"])) + national
            cut = rng.randint(0, 4)
            digits = digits[: len(digits) - cut] + "".join(rng.choice("0123456789") for _ in range(cut))
        else:
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 15)))
        fast = fast_e164(digits, plus, region)
        if fast == UNSURE:
            continue
        slow = _slow_e164(digits, plus, region)
        fast_valid = fast is not None and fast[1]
        slow_valid = slow is not None and slow[1]
        assert fast_valid == slow_valid, (digits, plus, region, fast, slow)
        if fast_valid:
            assert fast is not None and slow is not None and fast[0] == slow[0], (digits, plus, region)
        checked += 1
    assert checked > 4000


_E164S = st.builds(
    lambda code, rest: f"+{code}{rest}",
    st.sampled_from(["1", "44", "55", "54", "549", "52", "521", "5511", "34"]),
    st.text(alphabet="0123456789", min_size=6, max_size=12),
)


@settings(max_examples=1500, deadline=None)
@given(number=_E164S, numbers=st.lists(_E164S, max_size=4), same=st.booleans())
def test_business_test_is_canonical_membership(number: str, numbers: list[str], same: bool) -> None:
    from workers.domain.phone_extract import _business_keys, _is_business
    from workers.domain.phone_normalize import canonical

    # A business line written in another form of the same number must still be recognised.
    pool = [*numbers, canonical(number) if same else number]
    keys = _business_keys(frozenset(pool))
    assert _is_business(number, keys) == (canonical(number) in keys)
    for other in numbers:
        assert _is_business(other, keys) == (canonical(other) in keys)
