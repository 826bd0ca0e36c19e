"""Runs of digits and the numbers inside one: the shortcut for the usual run, proved equal to the loop."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.domain.phone_identifiers import Group
from workers.domain.phone_runs import Run, _segments, next_item

_GROUPS = re.compile(r"[0-9]+")
_SEPARATORS = st.sampled_from(
    [" ", "-", ".", "/", " / ", " - ", "  ", ". ", ") (", ")(", " ~", "--", "(", ")"]
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
