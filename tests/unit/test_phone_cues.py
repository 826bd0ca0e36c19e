"""Cue reading runs its case-insensitive patterns case-sensitively on lowercased text when that is
exact; these tests check that shortcut never changes an answer."""

from __future__ import annotations

import re
import sys
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.domain import phone_cues
from workers.domain.phone_cues import CUE_PATTERNS, anti_cue_before, read_cues


def _letters() -> str:
    """Every letter the cue patterns spell (escapes such as \\b or \\W are not letters)."""
    letters: set[str] = set()
    for cue in CUE_PATTERNS:
        letters.update(ch for ch in re.sub(r"\\.", "", cue.folded.pattern) if ch.isalpha())
    return "".join(sorted(letters))


def test_pattern_sources_are_lowercase() -> None:
    # The case-sensitive twin only matches lowercased text, so an uppercase letter would never match.
    for cue in CUE_PATTERNS:
        source = re.sub(r"\\.", "", cue.lowered.pattern)
        assert source == source.lower(), cue.lowered.pattern


def test_unsafe_characters_are_all_known() -> None:
    """Outside the unsafe set, lowercasing a character never changes what a pattern sees: its length,
    its class (word, space, digit) and which of the patterns' letters it matches ignoring case."""
    letters = _letters()
    any_letter = re.compile(f"[{letters}]", re.IGNORECASE)
    classes = [re.compile(p) for p in (r"\w", r"\s", r"\d", r"[^\W\d_]")]
    unsafe = set()
    for code in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        low = ch.lower()
        if low == ch and any_letter.fullmatch(ch) is None:
            continue  # no case, and no pattern letter matches it: nothing can differ
        if len(low) != 1:
            unsafe.add(ch)
            continue
        matched = {letter for letter in letters if re.fullmatch(letter, ch, re.IGNORECASE)}
        if matched != ({low} if low in letters else set()):
            unsafe.add(ch)
            continue
        if any((p.fullmatch(ch) is None) != (p.fullmatch(low) is None) for p in classes):
            unsafe.add(ch)
    missing = unsafe - phone_cues._FOLD_UNSAFE
    assert not missing, sorted(f"U+{ord(c):04X}" for c in missing)


_WORDS = st.sampled_from(
    [
        "my number is",
        "MY CELL:",
        "Call Me At",
        "text me",
        "order #",
        "ORDER NUMBER",
        "Booking Ref",
        "my wife's number",
        "Mi Número es",
        "MEU CELULAR",
        "Llámame",
        "mon portable",
        "Handy",
        "tel.",
        "Tel:",
        "phone #",
        "my #",
        "nº",
        "not mine",
        "HIS",
        "(cell)",
        "is my mobile",
        "İ",
        "ı",
        "ſ",
        "K",
        "ß",
        "Σ",
        ". ",
        "\n",
        " ",
        ", ",
    ]
)
_WINDOWS = st.one_of(
    st.lists(_WORDS, max_size=12).map(" ".join),
    st.text(max_size=80),
    st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=10).map("".join),
)


@settings(max_examples=600, deadline=None)
@given(left=_WINDOWS, right=_WINDOWS, owner=st.booleans())
def test_lowercased_matching_reads_what_case_insensitive_matching_reads(
    left: str, right: str, owner: bool
) -> None:
    fast = read_cues(left, right, owner=owner)
    fast_anti = anti_cue_before(left)
    with mock.patch.object(phone_cues, "_lowered", lambda text: None):
        assert read_cues(left, right, owner=owner) == fast
        assert anti_cue_before(left) == fast_anti


def test_owner_false_reads_only_anti_cues() -> None:
    assert read_cues("my cell is ", "").self_cue == "my cell"
    assert read_cues("my cell is ", "", owner=False) == phone_cues.CueReading()
    assert read_cues("order # ", "", owner=False).anti == "order #"
    assert read_cues("", " is my order number", owner=False).anti is not None


@settings(max_examples=400, deadline=None)
@given(text=_WINDOWS)
def test_letter_grouped_patterns_find_what_the_written_patterns_find(text: str) -> None:
    """The case-sensitive twins regroup word alternations by first letter for speed; every match
    (where and how long) must stay what the patterns as written find."""
    low = text.lower()
    for cue in CUE_PATTERNS:
        written = re.compile(cue.folded.pattern)
        assert [m.span() for m in cue.lowered.finditer(low)] == [m.span() for m in written.finditer(low)]


def test_word_alternations_are_grouped_by_first_letter() -> None:
    regroup = phone_cues._regroup
    assert regroup(r"\b(?:my|mi|mis|our)\s+x") == r"\b(?:m(?:y|i|is)|o(?:ur))\s+x"
    assert regroup(r"(?:the|o|our)?") == r"(?:t(?:he)|o(?:|ur))?"  # order within a letter is kept
    assert regroup(r"(?:a|[bc]d)") == r"(?:a|[bc]d)"  # a class first: left as written
    assert regroup(r"(?:ab?|b)") == r"(?:a(?:b?)|b(?:))"
    assert regroup(r"(?:a?b|c)") == r"(?:a?b|c)"  # an optional first letter: left as written
    assert regroup(r"[(](?:x|y)") == r"[(](?:x(?:)|y(?:))"  # a bracket in a class opens no group


# Text before a number as chat has it: sentences cut by ". ", "! ", newlines and abbreviations ("Tel. ",
# "no. ") that do not end one, at every distance from the digits.
_CLAUSES = st.lists(
    st.one_of(
        _WORDS,
        st.sampled_from(["Tel. ", "no. ", "Mr. ", "ca. ", "St. ", "hello there my friend ", "abcdefghijk "]),
        st.text(alphabet="ab .!?;\n#", max_size=12),
    ),
    max_size=16,
).map(" ".join)


@settings(max_examples=800, deadline=None)
@given(text=_CLAUSES, right=_WINDOWS, owner=st.booleans())
def test_reading_left_by_the_anti_cue_check_is_what_read_cues_reads(
    text: str, right: str, owner: bool
) -> None:
    """Where anti_cue_at hands its reading on, read_cues_after_anti answers as read_cues does on the
    wider window the extractor would give it."""
    end = len(text)
    anti, _, _, reading = phone_cues.anti_cue_at(text, end)
    if anti is not None or reading is None:
        return
    left = text[max(0, end - phone_cues.LEFT_WINDOW - 16) : end]
    assert reading[0] == phone_cues._clause_left(left)[-phone_cues.LEFT_WINDOW :]
    assert phone_cues.read_cues_after_anti(*reading, right, owner) == read_cues(left, right, owner=owner)


@settings(max_examples=400, deadline=None)
@given(right=_WINDOWS)
def test_one_right_owner_pattern_matches_as_the_two_did(right: str) -> None:
    low = right.lower()
    other = re.compile(phone_cues._RIGHT_OTHER, re.IGNORECASE).match(right)
    self_cue = re.compile(phone_cues._RIGHT_SELF, re.IGNORECASE).match(right) if other is None else None
    both = phone_cues._RIGHT_OWNER_RE.match_first(
        right, low if phone_cues._lowered(right) is not None else None
    )
    if other is not None:
        assert both == (True, *other.span())
    elif self_cue is not None:
        assert both == (False, *self_cue.span())
    else:
        assert both is None


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(
            [
                "phone",
                "cell",
                "tel",
                "mobile",
                "contact",
                "whats",
                "app",
                "whatsapp",
                " ",
                "\t",
                "\n",
                "\u00a0",
                "\u2003",
                "\x1c",
                "#",
                ":",
                "x",
                "order",
                "no.",
            ]
        ),
        max_size=6,
    )
)
def test_label_word_test_is_the_label_word_pattern(parts: list[str]) -> None:
    text = "".join(parts)
    head = text.rstrip(" #:")
    expected = re.compile(phone_cues._LABEL_WORD_RE.folded.pattern, re.IGNORECASE).search(head) is None
    assert phone_cues._not_after_label(text, text.lower(), len(text)) == expected
