"""The identifier grammar: codes of letters glued to digits, and decoy shapes inside a run of digits.
The prefilters that spare most runs most of the work are proved here to change no answer."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.domain.phone_identifiers import (
    _SEPARATORS,
    Group,
    RunView,
    _shapes,
    _shapes_for,
    block_decoys,
    code_word,
    is_date,
)

_GROUPS = re.compile(r"[0-9]+")


def view(run: str, before: str = "", after: str = "") -> RunView:
    return RunView(run, [Group(*m.span()) for m in _GROUPS.finditer(run)], before, after)


def blocked(run: str, before: str = "", after: str = "") -> list[str]:
    v = view(run, before, after)
    block_decoys(v)
    return [g.blocked for g in v.groups]


@pytest.mark.parametrize(
    ("run", "before", "after", "expected"),
    [
        ("11/14/2025", "", "", ["date", "date", "date"]),
        ("2024-05-12", "", "", ["date", "date", "date"]),
        ("03.05.2025-07.05.2025", "", "", ["date"] * 6),
        ("06-12-34-56-78", "", "", [""] * 5),  # a French phone, not a date
        ("1979-2011", "", "", ["year_range"] * 2),
        ("192.168.100.200", "", "", ["ip_address"] * 4),
        ("4.15.555.0123", "", "", ["version"] * 4),
        ("2025.10.5608197", "", "", ["version"] * 3),
        ("4111 1111 1111 1111", "", "", ["card"] * 4),
        ("123.456.789-09", "", "", ["cpf"] * 4),
        ("95814-2345", "", "", ["zip4"] * 2),
        ("(11) 98765-4321", "", "", [""] * 3),
        ("1,250.00", "$", "", ["price"] * 3),
        ("415-666-7777", "", "$", ["", "", "price"]),
        ("011 91 81216 81653 15", "", " min before", ["", "", "", "", "quantity"]),
        ("1234567 15", "", ":30 tomorrow", ["", "time"]),
    ],
)
def test_decoy_shapes(run: str, before: str, after: str, expected: list[str]) -> None:
    assert blocked(run, before, after) == expected


_DAYS = st.integers(1, 28)
_MONTHS = st.integers(1, 12)
_YEARS = st.integers(1950, 2049)


@st.composite
def _dates(draw: st.DrawFn) -> str:
    sep = draw(st.sampled_from("./-"))
    d, m, y = draw(_DAYS), draw(_MONTHS), draw(_YEARS)
    form = draw(st.sampled_from(["dmy", "mdy", "ymd"]))
    pad = draw(st.booleans())
    day, month = (f"{d:02d}", f"{m:02d}") if pad else (str(d), str(m))
    one = {
        "dmy": f"{day}{sep}{month}{sep}{y}",
        "mdy": f"{month}{sep}{day}{sep}{y}",
        "ymd": f"{y}{sep}{month}{sep}{day}",
    }[form]
    if draw(st.booleans()) and form != "mdy":
        two = {"dmy": f"{day}{sep}{month}{sep}{y}", "ymd": f"{y}{sep}{month}{sep}{day}"}[form]
        dash = draw(st.sampled_from(["-", " - ", "\u2013"]))
        return one + dash + two
    return one


@settings(max_examples=500, deadline=None)
@given(run=_dates())
def test_a_run_told_a_date_by_the_prefilter_is_a_date_for_the_shapes_too(run: str) -> None:
    """is_date spares a run every other check; the shapes would have blocked all of it anyway."""
    if is_date(run, 0, len(run)):
        assert all(blocked(run)), run


_RUN_PIECES = st.lists(
    st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=5),
        st.sampled_from([" ", "-", ".", "/", ", ", " - ", "  ", "(", ")", "\u2013", ". "]),
    ),
    min_size=1,
    max_size=9,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(run=_RUN_PIECES)
def test_the_shapes_a_run_s_separators_allow_are_all_the_shapes_it_holds(run: str) -> None:
    """Runs are only scanned for the shapes their separators allow; scanning for every shape finds
    the same."""
    assert _shapes(run) == _shapes(run, _shapes_for(_SEPARATORS))


def _no_cue(at: int) -> bool:
    return False


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ORD-2025-449810", "ORD-"),
        ("DE123456789", "DE"),
        ("v2.13.4 build 2024.05.5550123", "v"),
        ("at7185550123", None),  # a glue word run into the number
        ("4155550123abc", "abc"),
        ("312 555 0177pls", None),  # a courtesy word
        ("415-555-0123 ext. 4", None),
        ("電話番号は０９０－１２３４－５６７８です", None),  # Japanese runs into numbers by design
        ("abc+14156667777", None),  # a '+' opens a phone
    ],
)
def test_codes_of_letters_glued_to_digits(text: str, code: str | None) -> None:
    match = re.search(r"[0-9\uff10-\uff19]", text)
    assert match is not None
    start = match.start()
    end = start
    while end < len(text) and (text[end].isdigit() or text[end] in " -./\uff0d"):
        end += 1
    while not text[end - 1].isdigit():
        end -= 1
    assert code_word(text, start, end, _no_cue, frozenset({"at"}), frozenset({"pls"})) == code
