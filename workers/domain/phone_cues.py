"""Which label a number in chat carries: the words next to it, read in the business's language first.

The tables of words are in :mod:`workers.domain.phone_cue_words`; this module compiles them into
patterns (with :mod:`workers.domain.phone_patterns`) and answers three questions about one number,
each on a window of the message that the caller (:mod:`workers.domain.phone_extract`) cuts at the
number's clause and at the previous value, so that a label binds to the number it labels, never to the
whole message:

* :meth:`CueReader.next_to` -- the label right before the digits, with nothing but glue between
  ("order # 4155550123", "call me at 415...", "Mom: 415..."): the one that names these digits;
* :meth:`CueReader.owner_before` -- the nearest cue before the digits that says whose number it is,
  even a few words away ("text me tomorrow after lunch at 415...");
* :meth:`CueReader.after` -- a label right after the digits ("... is my order number", "... (my son)"),
  unless that label has a value of its own after it (", my zip is 94110" labels 94110, not the phone).

Every language's patterns are read; where two start at the same place, the business's language (the
first of the reader's ``order``) wins.

Speed: the patterns only run where a word they can start with is. One pattern per reader finds those
words in a window (in C); each then costs one anchored match per language that can start there. A
message is lowercased once and every window is a pair of offsets into it. Text whose lowercase form has
another length (a few characters such as U+0130) is read case-insensitively, trying every position.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Iterator
from typing import Final, NamedTuple

from workers.domain.phone_cue_words import LANGUAGES, REGION_LANGUAGES
from workers.domain.phone_patterns import (
    LETTER_AFTER,
    LETTER_BEFORE,
    first_tokens,
    literals_pattern,
    spellings,
    template_pattern,
    words_pattern,
)

#: How far left of the digits a label is looked for (the clause may end sooner).
LEFT_WINDOW: Final = 64
#: How far right of the digits a label is looked for.
RIGHT_WINDOW: Final = 40
#: How far before the digits a label right next to them may start (the longest label is shorter).
NEXT_TO_REACH: Final = 40


class Kind(enum.StrEnum):
    """What a label says about the digits it labels (the values are the patterns' group names)."""

    IDENTIFIER = "identifier"  # an identifier of something else: no phone
    OTHER = "other"  # someone else's number
    SELF = "self"  # the sender's own number
    PHONE = "label"  # a phone, whose not said


_KIND_OF_GROUP: Final = {kind.value: kind for kind in Kind}


class Label(NamedTuple):
    """A label found next to a number: its kind, its words as written, its offsets in the message."""

    kind: Kind
    text: str
    start: int
    end: int


class Message(NamedTuple):
    """A message as cues are read in it: as written, and lowercased (None when lowercasing would move
    offsets, as it does for a few characters such as U+0130; it is then read case-insensitively)."""

    text: str
    low: str | None

    @classmethod
    def of(cls, text: str) -> Message:
        low = text.lower()
        return cls(text, low if len(low) == len(text) else None)


# --- the patterns -----------------------------------------------------------------------------------------


def _all_words(field: str) -> str:
    return words_pattern({word for words in LANGUAGES.values() for word in getattr(words, field)})


# Between a label and the digits it names: spaces, punctuation, a number's lead ('+', '('), a short
# aside in brackets ("The DJ (Marcus) 404-...") and the glue words of every language ("is", "al").
_GLUE_CHARS: Final = r"[\s:=\-\u2013\u2014>.,()+*\"'\u00ab\u00bb\u201c\u201d\u2192/]"
_GLUE_WORDS: Final = _all_words("glue")
_ASIDE: Final = r"\([^()\d\n]{1,24}\)"
_GLUE: Final = rf"(?:{_GLUE_CHARS}|{_ASIDE}|{LETTER_BEFORE}(?:{_GLUE_WORDS}){LETTER_AFTER})*"
# After an identifier's name, a few letters belong to its value ("USt-IdNr: DE 614...", "IBAN BE71 ...",
# "Referenz SO 2025 ..."): a conditional on the identifier group, so it follows no other label.
_CODE_PREFIX: Final = rf"(?(identifier)(?:[\s:#=\-]*[^\W\d_]{{1,4}}{LETTER_AFTER})?)"
# A label after the digits attaches to them through a copula and a determiner ("is my", "es mi"); a
# sentence may end between them only before a copula ("415...? That's my brother").
_COPULAS: Final = _all_words("copulas")
_DETERMINERS: Final = _all_words("determiners")
_RIGHT_GLUE_RE: Final = re.compile(
    rf"[\s,:\-\u2013\u2014]*(?:[.?!]+\s*(?=(?:{_COPULAS}){LETTER_AFTER}))?"
    rf"((?:{_COPULAS}){LETTER_AFTER}\s*)?()((?:{_DETERMINERS}){LETTER_AFTER}\s*)?"
)
# A label followed by a value of its own within the same item (", my zip is 94110", " - table 28",
# " seine Nummer ist 0151...") labels that value; an item ends at a punctuation mark, a dash between
# spaces or a conjunction ("... is my cell, order 12345", "... ist meine Kundennummer und Code ...").
# A label in brackets ("(cell)") is always the number's before it.
_ITEM_END: Final = r"[,;.!?\n/]|\s[-\u2013\u2014]\s|\s(?:and|or|und|oder|y|o|e|ou|et|oppure)\s"
_OWN_VALUE: Final = rf"(?:(?<=\))|(?!(?:(?!{_ITEM_END}).)*?\d))"

# The questions, each with the tables it reads (by kind of label) and what must follow the label.
_QUESTIONS: Final[dict[str, tuple[dict[str, tuple[str, ...]], str]]] = {
    "next_to": (
        {
            "identifier": ("identifier_labels",),
            "other": ("other_before", "other_next_to"),
            "self": ("self_before",),
            "label": ("phone_labels",),
        },
        rf"{LETTER_AFTER}{_CODE_PREFIX}{_GLUE}\Z",
    ),
    "owner": ({"other": ("other_before",), "self": ("self_before",)}, LETTER_AFTER),
    # After the digits, an identifier is read first: "es mi número de socio" is a member number.
    "after_identifier": ({"identifier": ("identifier_labels",)}, rf"{LETTER_AFTER}{_OWN_VALUE}"),
    "after_owner": ({"other": ("other_after",), "self": ("self_after",)}, rf"{LETTER_AFTER}{_OWN_VALUE}"),
}


@functools.cache
def _compiled(language: str, question: str) -> tuple[re.Pattern[str], re.Pattern[str], frozenset[str]]:
    """One language's pattern for a question (lowercase, and case-insensitive), with a named group per
    kind of label, and the tokens its phrases start with."""
    words = LANGUAGES[language]
    kinds, tail = _QUESTIONS[question]
    groups: list[str] = []
    tokens: set[str] = set()
    for kind, fields in kinds.items():
        templates = [t for field in fields for t in getattr(words, field)]
        # Each phrase is atomic: read whole ("código de rastreamento"), never cut back to a shorter one
        # ("código") to suit what follows it.
        phrases = "|".join(f"(?>{template_pattern(t, words.macros)})" for t in templates)
        groups.append(f"(?P<{kind}>{phrases})")
        tokens |= {token for t in templates for token in first_tokens(t, words.macros)}
    source = f"{LETTER_BEFORE}(?:{'|'.join(groups)}){tail}"
    return re.compile(source), re.compile(source, re.IGNORECASE), frozenset(tokens)


class _Role:
    """One question asked of every language, in reading order, and which languages' patterns can
    start at a given token (the others need not run there)."""

    def __init__(self, order: tuple[str, ...], question: str) -> None:
        compiled = [_compiled(language, question) for language in order]
        self.lower = [lower for lower, _, _ in compiled]
        self.folded = [folded for _, folded, _ in compiled]
        starts: dict[str, list[int]] = {}
        for index, (_, _, tokens) in enumerate(compiled):
            for token in tokens:
                starts.setdefault(token, []).append(index)
        self.starts = {token: tuple(indexes) for token, indexes in starts.items()}

    def match_at(self, low: str, token: str, at: int, end: int) -> re.Match[str] | None:
        """The match at ``at`` (where ``token`` starts; ``end`` ends the window) of the first language
        that has one."""
        for index in self.starts.get(token, ()):
            match = self.lower[index].match(low, at, end)
            if match is not None:
                return match
        return None

    def matches(self, text: Message, positions: Iterable[int], end: int) -> Iterator[re.Match[str]]:
        """Every match at ``positions``, in their order (at one place, the first language's): the plain
        way, for text without a lowercase twin and for the test that shows the token index is exact."""
        for at in positions:
            for lower, folded in zip(self.lower, self.folded, strict=True):
                match = (
                    lower.match(text.low, at, end)
                    if text.low is not None
                    else folded.match(text.text, at, end)
                )
                if match is not None:
                    yield match
                    break


def _starts_pattern(tokens: Iterable[str]) -> re.Pattern[str]:
    """A pattern finding the tokens a label can start with: a word among ``tokens`` (whole), or one of
    their punctuation characters."""
    words = {t for t in tokens if t[0].isalpha()}
    marks = "".join(sorted({t for t in tokens if not t[0].isalpha()}))
    return re.compile(rf"{LETTER_BEFORE}(?:{literals_pattern(words)}){LETTER_AFTER}|[{re.escape(marks)}]")


def _label(match: re.Match[str] | None, text: str) -> Label | None:
    if match is None:
        return None
    group = match.lastgroup or ""
    start, end = match.span(group)
    # The cue as evidence, without the glue words it may end with ("call me at" -> "call me").
    words = text[start:end].split()
    while len(words) > 1 and words[-1].lower() in GLUE_WORDS:
        words.pop()
    return Label(_KIND_OF_GROUP[group], " ".join(words), start, end)


# --- reading ----------------------------------------------------------------------------------------------


class CueReader:
    """Reads labels with the patterns of every language, the first of ``order`` winning ties. Windows
    are offsets into one :class:`Message`; a label's offsets are the message's."""

    def __init__(self, order: tuple[str, ...]) -> None:
        self.order = order
        self._next_to = _Role(order, "next_to")
        self._owner = _Role(order, "owner")
        self._after_identifier = _Role(order, "after_identifier")
        self._after_owner = _Role(order, "after_owner")
        self._before_starts = _starts_pattern(self._next_to.starts.keys() | self._owner.starts.keys())
        self._after_starts = _starts_pattern(
            self._after_identifier.starts.keys() | self._after_owner.starts.keys()
        )

    def before(self, text: Message, lo: int, at: int) -> tuple[Label | None, Label | None]:
        """(:meth:`next_to`, :meth:`owner_before`) of the window ``lo:at``, the second read only when the
        first is no owner cue or identifier (it would not change the answer)."""
        if text.low is None:
            next_to = self.next_to(text, lo, at)
            if next_to is not None and next_to.kind is not Kind.PHONE:
                return next_to, None
            return next_to, self.owner_before(text, lo, at)
        tokens = self._tokens(text.low, lo, at)  # read once for both questions
        reach = at - NEXT_TO_REACH
        match = self._first(self._next_to, text.low, [t for t in tokens if t[0] >= reach], at)
        if match is not None and match.lastgroup != Kind.PHONE:
            return _label(match, text.text), None
        owner = self._first(self._owner, text.low, tokens[::-1], at)
        return _label(match, text.text), _label(owner, text.text)

    def next_to(self, text: Message, lo: int, at: int) -> Label | None:
        """The label ending the window ``lo:at`` (the clause before the digits) with only glue after it;
        of two, the one that starts first (the longer: "order number" rather than "number")."""
        reach = max(lo, at - NEXT_TO_REACH)
        if text.low is None:
            return _label(next(self._next_to.matches(text, range(reach, at), at), None), text.text)
        return _label(self._first(self._next_to, text.low, self._tokens(text.low, reach, at), at), text.text)

    def owner_before(self, text: Message, lo: int, at: int) -> Label | None:
        """The self or other-person cue in the window ``lo:at`` that starts nearest its end."""
        if text.low is None:
            return _label(next(self._owner.matches(text, range(at - 1, lo - 1, -1), at), None), text.text)
        return _label(self._first(self._owner, text.low, self._tokens(text.low, lo, at)[::-1], at), text.text)

    def after(self, text: Message, at: int, end: int) -> Label | None:
        """The label at the start of the window ``at:end`` (the text right after the digits) past a
        copula and a determiner ("is my order number", "es mi número de socio", "(my son)"), when it has
        no value of its own after it."""
        if text.text[at : at + 1].isalpha():  # a word glued to the digits is a typo ("0177pls")
            return None
        glue = _RIGHT_GLUE_RE.match(text.low if text.low is not None else text.text.lower(), at, end)
        if glue is None:  # pragma: no cover - every part of the pattern is optional
            return None
        places = (glue.end(2), glue.end(0))  # after the copula, then after the determiner too
        roles = (self._after_identifier, self._after_owner)
        if text.low is None:
            return _label(
                next((m for role in roles for m in role.matches(text, places, end)), None), text.text
            )
        low = text.low
        tokens = [
            (m.start(), m.group(0)) for place in places if (m := self._after_starts.match(low, place, end))
        ]
        match = self._first(roles[0], low, tokens, end) or self._first(roles[1], low, tokens, end)
        return _label(match, text.text)

    def _tokens(self, low: str, lo: int, at: int) -> list[tuple[int, str]]:
        """The tokens of ``low[lo:at]`` a label before a number can start with, and where."""
        return [(m.start(), m.group(0)) for m in self._before_starts.finditer(low, lo, at)]

    @staticmethod
    def _first(role: _Role, low: str, tokens: list[tuple[int, str]], end: int) -> re.Match[str] | None:
        """The first match of ``role`` at one of ``tokens`` (in their order) within ``:end``."""
        for at, word in tokens:
            match = role.match_at(low, word, at, end)
            if match is not None:
                return match
        return None


def language_order(region: str | None) -> tuple[str, ...]:
    """The languages to read, the business's own (by its region) first."""
    first = REGION_LANGUAGES.get((region or "").upper(), "en")
    return (first, *(code for code in LANGUAGES if code != first))


@functools.lru_cache(maxsize=1024)
def reader_for(region: str | None) -> CueReader:
    """The reader of a business in ``region``: one per language order, built once."""
    return _reader(language_order(region))


@functools.cache
def _reader(order: tuple[str, ...]) -> CueReader:
    return CueReader(order)


#: Words between a label and its number, in every language ("is", "al", "unter").
GLUE_WORDS: Final = frozenset(
    form for words in LANGUAGES.values() for word in words.glue if word.isalpha() for form in spellings(word)
)
#: Words people glue to the end of a number in a hurry, in every language ("0177pls").
COURTESY_WORDS: Final = frozenset(word for words in LANGUAGES.values() for word in words.courtesy)


def warm_up(regions: Iterable[str | None] = ("US",)) -> None:
    """Compile the readers of the businesses' regions now, not on the first message that needs them."""
    for region in regions:
        reader_for(region)
