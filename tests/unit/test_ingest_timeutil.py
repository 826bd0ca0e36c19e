"""Provider timestamps in every shape they arrive in, normalized to ISO UTC with milliseconds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.timeutil import normalize, now_iso
from schema.envelopes import parse_time

FALLBACK = "2026-06-10T15:30:00.000Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1458692752478, "2016-03-23T00:25:52.478Z"),  # Messenger: ms number
        (1569262485349, "2019-09-23T18:14:45.349Z"),  # Instagram: ms number
        ("1749416383", "2025-06-08T20:59:43.000Z"),  # WhatsApp: seconds as a string
        ("1527459824", "2018-05-27T22:23:44.000Z"),  # Instagram dashboard test: seconds string
        (1527459824, "2018-05-27T22:23:44.000Z"),  # seconds as a number
        (1527459824.5, "2018-05-27T22:23:44.500Z"),
        ("2016-02-22T17:01:00.000Z", "2016-02-22T17:01:00.000Z"),  # RingCentral
        ("2016-02-22T17:01:00.000+0000", "2016-02-22T17:01:00.000Z"),  # older RingCentral sample
        ("2016-02-22T12:01:00-05:00", "2016-02-22T17:01:00.000Z"),
        ("2016-02-22T17:01:00", "2016-02-22T17:01:00.000Z"),  # naive: taken as UTC
        (" 1749416383 ", "2025-06-08T20:59:43.000Z"),
    ],
)
def test_normalize_known_shapes(value, expected):
    assert normalize(value, FALLBACK) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "  ",
        "yesterday",
        True,
        False,
        [],
        {},
        float("nan"),
        float("inf"),
        -5,
        10**30,
        "9" * 30,
        "1e400",
    ],
)
def test_unreadable_values_fall_back_to_receive_time(value):
    assert normalize(value, FALLBACK) == FALLBACK


def test_now_iso_is_parseable_utc():
    assert parse_time(now_iso()).utcoffset().total_seconds() == 0


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=80)))
def test_normalize_never_raises_and_always_gives_a_valid_time(value):
    parse_time(normalize(value, FALLBACK))
