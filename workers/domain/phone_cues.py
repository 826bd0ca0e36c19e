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
LEFT_WINDOW: Final = 48
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
    """A label found next to a number: its kind, the text it matched as written, its offsets in the
    message."""

    kind: Kind
    raw: str  # the text matched, glue words it may end with included ("call me at")
    start: int
    end: int

    @property
    def text(self) -> str:
        """The label's words as written, without the glue words it may end with ("call me"): its
        evidence, read only for the labels that end up on a number."""
        words = self.raw.split()
        while len(words) > 1 and words[-1].lower() in GLUE_WORDS:
            words.pop()
        return " ".join(words)


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
_COPULAS: Final = _all_words("copulas")
_ASIDE: Final = r"\([^()\d\n]{1,24}\)"
_GLUE: Final = rf"(?:{_GLUE_CHARS}|{_ASIDE}|{LETTER_BEFORE}(?:{_GLUE_WORDS}){LETTER_AFTER})*"
# An identifier's name reaches its value through the same characters and a copula, never a preposition
# of calling ("la réservation est au 06 12...": "au" is how a phone is given, "est" how an identifier is).
_IDENTIFIER_GLUE: Final = rf"(?:{_GLUE_CHARS}|{_ASIDE}|{LETTER_BEFORE}(?:{_COPULAS}){LETTER_AFTER})*"
# After an identifier's name, a few letters belong to its value ("USt-IdNr: DE 614...", "IBAN BE71 ...",
# "Referenz SO 2025 ..."): a conditional on the identifier group, so it follows no other label.
_CODE_PREFIX: Final = rf"(?(identifier)(?:[\s:#=\-]*[^\W\d_]{{1,4}}{LETTER_AFTER})?)"
# A label after the digits attaches to them through a copula and a determiner ("is my", "es mi"); a
# sentence may end between them only before a copula ("415...? That's my brother").
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

# The questions: the tables each reads, by kind of label in the order they are tried where two start at
# one place, and what must follow a label for it to count.
_NEXT_TO_TAIL: Final = rf"{LETTER_AFTER}{_GLUE}\Z"
_QUESTIONS: Final[dict[str, dict[str, tuple[tuple[str, ...], str]]]] = {
    "next_to": {
        "identifier": (("identifier_labels",), rf"{LETTER_AFTER}{_CODE_PREFIX}{_IDENTIFIER_GLUE}\Z"),
        "other": (("other_before", "other_next_to"), _NEXT_TO_TAIL),
        "self": (("self_before",), _NEXT_TO_TAIL),
        "label": (("phone_labels",), _NEXT_TO_TAIL),
    },
    "owner": {"other": (("other_before",), LETTER_AFTER), "self": (("self_before",), LETTER_AFTER)},
    # After the digits, an identifier is read first: "es mi número de socio" is a member number.
    "after_identifier": {"identifier": (("identifier_labels",), rf"{LETTER_AFTER}{_OWN_VALUE}")},
    "after_owner": {
        "other": (("other_after",), rf"{LETTER_AFTER}{_OWN_VALUE}"),
        "self": (("self_after",), rf"{LETTER_AFTER}{_OWN_VALUE}"),
    },
}


class _Phrase(NamedTuple):
    """One template of one language, compiled for one question: its pattern (lowercase, and
    case-insensitive; the group is named for the kind of label) and the tokens it can start with."""

    lower: re.Pattern[str]
    folded: re.Pattern[str]
    starts: frozenset[str]


@functools.cache
def _phrases(language: str, question: str) -> tuple[_Phrase, ...]:
    """One language's templates for a question, in the order they are tried."""
    words = LANGUAGES[language]
    phrases: list[_Phrase] = []
    for kind, (fields, tail) in _QUESTIONS[question].items():
        for template in (t for field in fields for t in getattr(words, field)):
            # The phrase is atomic: read whole ("código de rastreamento"), never cut back to a shorter one
            # ("código") to suit what follows it.
            source = f"{LETTER_BEFORE}(?P<{kind}>(?>{template_pattern(template, words.macros)})){tail}"
            starts = frozenset(first_tokens(template, words.macros))
            phrases.append(_Phrase(re.compile(source), re.compile(source, re.IGNORECASE), starts))
    return tuple(phrases)


class _Role:
    """One question asked of every language: its phrases in reading order (the business's language
    first), and which of them can start at a given token (the others need not be tried there)."""

    def __init__(self, order: tuple[str, ...], question: str) -> None:
        self.phrases = [phrase for language in order for phrase in _phrases(language, question)]
        starts: dict[str, list[re.Pattern[str]]] = {}
        for phrase in self.phrases:
            for token in phrase.starts:
                starts.setdefault(token, []).append(phrase.lower)
        self.starts = {token: tuple(patterns) for token, patterns in starts.items()}

    def match_at(self, low: str, token: str, at: int, end: int) -> re.Match[str] | None:
        """The first phrase that matches at ``at`` (where ``token`` starts; ``end`` ends the window)."""
        for pattern in self.starts.get(token, ()):
            match = pattern.match(low, at, end)
            if match is not None:
                return match
        return None

    def matches(self, text: Message, positions: Iterable[int], end: int) -> Iterator[re.Match[str]]:
        """At each of ``positions`` in turn, the first phrase that matches there: the plain way, every
        phrase tried everywhere, for text without a lowercase twin and for the test that shows the token
        index changes nothing."""
        for at in positions:
            for phrase in self.phrases:
                if text.low is not None:
                    match = phrase.lower.match(text.low, at, end)
                else:
                    match = phrase.folded.match(text.text, at, end)
                if match is not None:
                    yield match
                    break


def _starts_source(tokens: Iterable[str]) -> str:
    """A pattern finding the tokens a label can start with: a word among ``tokens`` (whole), or one of
    their punctuation characters."""
    words = {t for t in tokens if t[0].isalpha()}
    marks = "".join(sorted({t for t in tokens if not t[0].isalpha()}))
    return rf"{LETTER_BEFORE}(?:{literals_pattern(words)}){LETTER_AFTER}|[{re.escape(marks)}]"


# What ends the text a label of a number may stand in: a value before it (two digits or more: "94110",
# "DL 1234"), or the end of a clause -- a line end, or ". ", "! ", "? ", "; " that is not an
# abbreviation's full stop ("Tel. ", "Nr. ") and not right before the digits ("Bestellnr. 0151...").
_CUT_CHARS: Final = "\n.!?;"
_VALUE_OR_CUT: Final = r"(?P<value>\d{2,})|(?P<cut>\n|[.!?;](?=\s))"
_WINDOW_RE: Final = re.compile(_VALUE_OR_CUT)
_ABBREVIATION_RE: Final = re.compile(
    r"(?:^|[^\w])(?:n|no|nr|nro|num|núm|tel|tél|ph|mob|cel|cell|ext|ref|conf|res|inv|acct|apt|st|ave|dr|mr"
    r"|mrs|ms|approx|ca|vs|p|pág|tlf|telf|port|fr|av|sr|sra|dra|bzw|evtl|ggf)\.\Z",
    re.IGNORECASE,
)


def _ends_window(match: re.Match[str], text: str, floor: int, at: int) -> bool:
    """Whether a value or clause end found before the digits at ``at`` ends their window."""
    if match.lastgroup == "value" or match.group(0) != ".":
        return True
    if text[match.end() : at].isspace():
        return False  # a full stop right before the digits ends an abbreviation ("Bestellnr. 0151")
    return _ABBREVIATION_RE.search(text, max(floor, match.start() - 6), match.start() + 1) is None


def window_start(text: str, floor: int, at: int) -> int:
    """Where the text before the digits at ``at`` that one of their labels may stand in starts, looking
    back no further than ``floor``: after the last value or clause end (see :data:`_VALUE_OR_CUT`)."""
    start = floor
    for match in _WINDOW_RE.finditer(text, floor, at):
        if _ends_window(match, text, floor, at):
            start = match.end()
    return start


def _label(match: re.Match[str] | None, text: str) -> Label | None:
    if match is None:
        return None
    group = match.lastgroup or ""
    start, end = match.span(group)
    return Label(_KIND_OF_GROUP[group], text[start:end], start, end)


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
        # One scan of a number's window finds both where the window starts and the tokens in it.
        before = self._next_to.starts.keys() | self._owner.starts.keys()
        if any(not token.isalpha() and token in _CUT_CHARS for token in before):
            raise ValueError("a label may not start with a clause end")  # see _tokens
        self._before_scan = re.compile(rf"{_VALUE_OR_CUT}|(?P<token>{_starts_source(before)})")
        self._after_starts = re.compile(
            _starts_source(self._after_identifier.starts.keys() | self._after_owner.starts.keys())
        )

    def before(self, text: Message, floor: int, at: int) -> tuple[Label | None, Label | None]:
        """(:meth:`next_to`, :meth:`owner_before`) of the digits at ``at`` (reading back no further than
        ``floor``), the second read only when the first is no owner cue or identifier (it would not
        change the answer)."""
        if text.low is None:
            next_to = self.next_to(text, floor, at)
            if next_to is not None and next_to.kind is not Kind.PHONE:
                return next_to, None
            return next_to, self.owner_before(text, floor, at)
        tokens = self._tokens(text.low, floor, at)
        reach = at - NEXT_TO_REACH
        match = self._first(self._next_to, text.low, [t for t in tokens if t[0] >= reach], at)
        if match is not None and match.lastgroup != Kind.PHONE:
            return _label(match, text.text), None
        owner = self._first(self._owner, text.low, tokens[::-1], at)
        return _label(match, text.text), _label(owner, text.text)

    def next_to(self, text: Message, floor: int, at: int) -> Label | None:
        """The label of the digits at ``at`` that ends right before them, with only glue between; of
        two, the one that starts first (the longer: "order number" rather than "number")."""
        if text.low is None:
            lo = max(window_start(text.text, floor, at), at - NEXT_TO_REACH)
            return _label(next(self._next_to.matches(text, range(lo, at), at), None), text.text)
        reach = at - NEXT_TO_REACH
        tokens = [t for t in self._tokens(text.low, floor, at) if t[0] >= reach]
        return _label(self._first(self._next_to, text.low, tokens, at), text.text)

    def owner_before(self, text: Message, floor: int, at: int) -> Label | None:
        """The self or other-person cue before the digits at ``at`` that starts nearest them."""
        if text.low is None:
            lo = window_start(text.text, floor, at)
            return _label(next(self._owner.matches(text, range(at - 1, lo - 1, -1), at), None), text.text)
        return _label(
            self._first(self._owner, text.low, self._tokens(text.low, floor, at)[::-1], at), text.text
        )

    def after(self, text: Message, at: int, end: int) -> Label | None:
        """The label at the start of the window ``at:end`` (the text right after the digits) past a
        copula and a determiner ("is my order number", "es mi número de socio", "(my son)"), when it has
        no value of its own after it."""
        if at >= end or text.text[at].isalpha():  # nothing after, or a typo ("0177pls")
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

    def _tokens(self, low: str, floor: int, at: int) -> list[tuple[int, str]]:
        """The words a label can start with between the window start of the digits at ``at`` (see
        :func:`window_start`) and them, and where, read in one scan from ``floor``: a value or clause end
        that ends the window drops the tokens before it (tokens, values and clause ends never share a
        character, so the scan finds each where its own scan would)."""
        tokens: list[tuple[int, str]] = []
        for match in self._before_scan.finditer(low, floor, at):
            if match.lastgroup == "token":
                tokens.append((match.start(), match.group()))
            elif _ends_window(match, low, floor, at):
                tokens.clear()
        return tokens

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
#: Verbs of calling and writing people run into the number after them, in every language ("call4155...").
CONTACT_VERBS: Final = frozenset(
    form for words in LANGUAGES.values() for word in words.verbs for form in spellings(word)
)
#: Words people glue to the end of a number in a hurry, in every language ("0177pls").
COURTESY_WORDS: Final = frozenset(word for words in LANGUAGES.values() for word in words.courtesy)


def warm_up(regions: Iterable[str | None] = ("US",)) -> None:
    """Compile the readers of the businesses' regions now, not on the first message that needs them."""
    for region in regions:
        reader_for(region)
