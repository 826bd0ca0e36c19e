"""The fast validity path answers exactly what phonenumbers answers, whenever it answers at all.

Extraction trusts :func:`fast_e164` instead of ``phonenumbers.parse`` + ``is_valid_number`` for most
candidates, so any divergence would silently change which numbers are found. These tests compare the
two on every supported region: the same E.164 and the same validity, or both "no number".
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.domain.phone_fastparse import UNSURE, fast_e164
from workers.domain.phones import warm_up

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = list(phonenumbers.PhoneNumberType.values())


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    warm_up()


def _slow(digits: str, plus: bool, region: str | None) -> tuple[str, bool] | None:
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, region)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.is_valid_number(number)


def _agree(digits: str, plus: bool, region: str | None) -> bool:
    """Assert agreement; False when the fast path declined to answer."""
    fast = fast_e164(digits, plus, region)
    if fast == UNSURE:
        return False
    assert fast == _slow(digits, plus, region), (digits, plus, region)
    return True


def _example_digits(region: str, kind: object, prefix: str) -> str | None:
    example = phonenumbers.example_number_for_type(region, kind)
    if example is None:
        return None
    national = phonenumbers.national_significant_number(example)
    return prefix.replace("CC", str(example.country_code)) + national


# Ways people type a number before its national digits: nothing, the national prefix, the calling
# code without '+', an international prefix with or without the calling code.
PREFIXES = ["", "0", "1", "8", "CC", "0CC", "00", "00CC", "011", "011CC", "810", "0011", "8CC"]


@settings(max_examples=1500, deadline=None)
@given(
    region=st.sampled_from([*REGIONS, None]),
    example_region=st.sampled_from(REGIONS),
    kind=st.sampled_from(TYPES),
    prefix=st.sampled_from(PREFIXES),
    plus=st.booleans(),
    cut=st.integers(min_value=0, max_value=3),
    tail=st.text(alphabet="0123456789", max_size=4),
)
def test_agrees_on_numbers_as_people_type_them(
    region: str | None, example_region: str, kind: object, prefix: str, plus: bool, cut: int, tail: str
) -> None:
    example = _example_digits(example_region, kind, prefix)
    # Near misses of real numbers: wrong lengths, wrong last digits.
    digits = example[: len(example) - cut] + tail if example is not None else tail or "0"
    _agree(digits, plus, region)


@settings(max_examples=1500, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=1, max_size=19),
    plus=st.booleans(),
    region=st.sampled_from([*REGIONS, None]),
)
def test_agrees_on_random_digit_strings(digits: str, plus: bool, region: str | None) -> None:
    _agree(digits, plus, region)


def test_agrees_on_a_sweep_of_every_region() -> None:
    """A seeded sweep (hypothesis explores; this guarantees every region and prefix is covered)."""
    rng = random.Random(11)
    answered = asked = 0
    for region in REGIONS:
        for prefix in PREFIXES:
            for plus in (False, True):
                digits = _example_digits(rng.choice([region, rng.choice(REGIONS)]), rng.choice(TYPES), prefix)
                if digits is None:
                    continue
                asked += 1
                answered += _agree(digits, plus, rng.choice([region, None]))
    # The fast path must answer nearly always, or it is no fast path.
    assert answered > 0.95 * asked


@pytest.mark.parametrize(
    ("digits", "plus", "region", "expected"),
    [
        ("14155552671", False, "US", ("+14155552671", True)),  # calling code typed without '+'
        ("4155552671", False, "CA", ("+14155552671", True)),  # a US number read in Canada
        ("01144207123456", False, "US", ("+44207123456", False)),  # "011" then a too-short UK number
        ("011442071234567", False, "US", ("+442071234567", True)),
        ("0114420712345", True, "US", ("+4420712345", False)),  # "+011 44 ...": the '+' is dropped
        ("0442071234567", True, None, None),  # no calling code begins with 0
        ("02071234567", False, "GB", ("+442071234567", True)),  # national prefix 0
        ("11987654321", False, "BR", ("+5511987654321", True)),
    ],
)
def test_known_readings(
    digits: str, plus: bool, region: str | None, expected: tuple[str, bool] | None
) -> None:
    assert fast_e164(digits, plus, region) == expected
    assert _slow(digits, plus, region) == expected
