"""Runs of digits and the numbers inside one: the shortcut for the usual run, proved equal to the loop."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.domain.phone_identifiers import Group
from workers.domain.phone_runs import Run, _segments, after_value, next_item, parse_valid

_GROUPS = re.compile(r"[0-9]+")
_SEPARATORS = st.sampled_from(
    [
        " ",
        "-",
        ".",
        "/",
        " / ",
        " - ",
        "  ",
        ". ",
        ") (",
        ")(",
        " ~",
        "--",
        "(",
        ")",
        " -",
        "- ",
        " (",
        " \u2013",
    ]
)


@settings(max_examples=2000, deadline=None)
@given(
    groups=st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), min_size=1, max_size=6),
    separators=st.lists(_SEPARATORS, min_size=5, max_size=5),
)
def test_a_run_without_a_strong_separator_is_one_segment(groups: list[str], separators: list[str]) -> None:
    """The shortcut (one search for any strong separator) gives what cutting gap by gap gives."""
    run = groups[0] + "".join(sep + group for sep, group in zip(separators, groups[1:], strict=False))
    spans = [Group(*m.span()) for m in _GROUPS.finditer(run)]
    assert _segments(run, spans, blocked=False) == _segments(run, spans, blocked=True)


def test_numbers_in_one_run() -> None:
    text = "651-234-2345/332-445-1234 and 415-555-0134 415-555-0199"
    first = Run(text, text.lower(), 0, 25).numbers("US")
    assert [f.e164 for f in first] == ["+16512342345", "+13324451234"]
    second = Run(text, text.lower(), 30, len(text)).numbers("US")
    assert [f.e164 for f in second] == ["+14155550134", "+14155550199"]


def test_a_whatsapp_link_reads_its_digits_as_an_international_number() -> None:
    text = "wa.me/5511992265177"
    assert [f.e164 for f in Run(text, text, 6, len(text)).numbers("US", True)] == ["+5511992265177"]
    assert Run(text, text, 6, len(text)).numbers("US") == []


def test_the_next_item_of_a_list_in_a_run() -> None:
    assert next_item("12345678 / 415-555-0134") == 11
    assert next_item("870.518.163-84. 07 81 82 80 40") == 16
    assert next_item("14.0.14 (85946695") is None  # a bracket is no list separator
    assert next_item("18/507/15253") is None  # nor is a bare slash


def test_where_a_phone_begins_after_a_value() -> None:
    assert after_value("12345 415-555-0134") == 6  # written with a phone's punctuation
    assert after_value("2025-449810 (415) 555-0134") == 12
    assert after_value("12345 4155550134") == 6  # one group as long as a whole number
    assert after_value("12345 0171 2345678") == 6  # a trunk prefix before nine digits
    assert after_value("2960 4455 1700") is None  # spaced like the value: a parcel's number
    assert after_value("01519 4198039") is None  # too short for a number with its trunk prefix
    assert after_value("12 345 678 901") is None  # a value of two digits is no value of its own
    assert after_value("2024-555-0101") is None  # no space: one value


def test_a_national_number_is_written_with_the_trunk_prefix_its_country_dials() -> None:
    assert parse_valid("2024 7968970", "DE", named=False) is None
    assert parse_valid("30 1234567", "DE", named=True) == ("+49301234567", "region")  # labelled a phone
    assert parse_valid("(20) 3346 1234", "GB") == ("+442033461234", "region")  # a bracketed area code
    # Labelled a phone but without the trunk prefix: a number from abroad with its '+' left out.
    assert parse_valid("44 7911 123456", "DE", named=True) == ("+447911123456", "plus")
    assert parse_valid("44 7911 123456", "US", named=True) == ("+447911123456", "plus")
    assert parse_valid("44 7911 123456", "US") is None
    assert parse_valid("030 1234567", "DE", named=False) == ("+49301234567", "region")
    assert parse_valid("1800 101 022", "AU", named=False) == ("+611800101022", "region")  # no trunk
    assert parse_valid("612 345 678", "ES", named=False) == ("+34612345678", "region")  # none there
