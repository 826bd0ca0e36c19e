"""Runs of digits in chat text, and the valid phone numbers inside one run.

A *run* is at least :data:`MIN_DIGITS` digits with at most three separator characters (spaces, dashes,
dots, slashes, brackets, their fullwidth forms) between neighbours: "415-555-0123", "0151/23456789",
"06 12 34 56 78", but also "4111 1111 1111 1111" or "12/05/2024 14". ``\\d`` matches any Unicode decimal
digit, so Arabic-Indic and fullwidth digits are found in the original text and every span points into
it; only a same-length ASCII copy of a run is ever parsed.

Inside a run (:class:`Run`): groups that a decoy shape of :mod:`phone_identifiers` recognizes are
blocked; the rest is cut at strong separators (" - ", "/", "--", ". ") into segments; the longest
consecutive segments that libphonenumber calls a *valid* number (for the configured region, a country
named just before, or the country the number carries) are the numbers (:func:`parse_valid`; in a
country that writes its trunk prefix, "030 ...", digits without it need a phone label). A run is never
cut at a plain space or dash, so a window of a card or order number never comes out as a phone; the
exceptions are a number written like a phone (dashes, dots or a '+') inside a longer run ("415-666-7777
123 Main St") and a group as long as a whole number ("12345 4155550134").

The caller cuts a run that opens with an identifier's value where a list goes on (:func:`next_item`)
or where a number written as a phone follows the value (:func:`after_value`).
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from workers.domain.phone_fastparse import UNSURE, fast_e164
from workers.domain.phone_identifiers import Group, RunView, block_decoys
from workers.domain.phone_normalize import canonical, fold
from workers.domain.phone_patterns import LETTER_AFTER, LETTER_BEFORE, literals_pattern

MIN_DIGITS: Final = 7
# A group this long is a whole national number in most countries, never half of one.
_WHOLE_NUMBER_DIGITS: Final = 9
MAX_DIGITS: Final = 17  # IDD prefix (011 / 00) + the longest E.164 number
#: Parses one run may cost at most (a run of hundreds of digit groups must not cost hundreds).
MAX_PARSES_PER_RUN: Final = 24

_SEP_CHARS: Final = (
    " \t\u00a0\u2000-\u200a\u202f\u3000\\-\u2010-\u2015\u2212./()~\uff08\uff09\uff0d\uff0e\uff0f"
)
#: Digit-first, so the regex engine skips quickly to the next digit in the common digit-free text.
RUN_RE: Final = re.compile(rf"\d(?:[{_SEP_CHARS}]{{0,3}}\d){{{MIN_DIGITS - 1},}}")
_GROUP_RE: Final = re.compile(r"[0-9]+")
_LEAD_RE: Final = re.compile(r"(?:\(\s?)?(?:[+\uff0b]\s?){1,2}(?:\(\s?)?$|\(\s?$")
EXTENSION_RE: Final = re.compile(
    r"\s{0,4}(?:,\s{0,2})?(?:ext(?:ension|n)?\.?|x|\#|int\.?|ramal|anexo|durchwahl|poste|interno)"
    r"\s{0,4}[:.]?\s{0,2}(\d{1,7})(?![^\W\d_])",
    re.IGNORECASE,
)
# Strong separators cut a run into segments that may be separate numbers; a sentence end ends a number.
_STRONG_SEP_RE: Final = re.compile(
    r"(?:\s*/\s*|\s+[-\u2013\u2014]+\s+|\s*-{2,}\s*|\.\s+|\s{2,}|\)?\s+\(|\)\(|\s+~\s*)"
)
# Two characters every strong separator holds: searched for first, as a pattern opening with optional
# spaces is slow to search (most runs have none and are one segment).
_STRONG_MARK_RE: Final = re.compile(r"/|--|\)\(|\.\s|\s[\s\-\u2013\u2014(~]")
_SENTENCE_END_RE: Final = re.compile(r"\.\s+")

# Country names and demonyms that say which numbering plan a national-format number uses ("my UK mobile").
_COUNTRY_HINTS: Final = {
    **dict.fromkeys(("uk", "british", "england", "london"), "GB"),
    **dict.fromkeys(("mexico", "méxico", "mexican", "mexicano"), "MX"),
    **dict.fromkeys(("germany", "german", "deutschland", "deutsche"), "DE"),
    **dict.fromkeys(("france", "french", "français", "française"), "FR"),
    **dict.fromkeys(("spain", "spanish", "españa", "español"), "ES"),
    **dict.fromkeys(("brazil", "brasil", "brazilian", "brasileiro"), "BR"),
    **dict.fromkeys(("canada", "canadian"), "CA"),
    **dict.fromkeys(("australia", "aussie", "australian"), "AU"),
    **dict.fromkeys(("india", "indian"), "IN"),
    **dict.fromkeys(("ireland", "irish"), "IE"),
    **dict.fromkeys(("italy", "italian", "italia"), "IT"),
    **dict.fromkeys(("argentina", "argentine"), "AR"),
    **dict.fromkeys(("usa", "u.s.", "american"), "US"),
    **dict.fromkeys(("portugal", "portuguese"), "PT"),
    **dict.fromkeys(("netherlands", "dutch"), "NL"),
}
_HINT_RE: Final = re.compile(f"{LETTER_BEFORE}(?:{literals_pattern(_COUNTRY_HINTS)}){LETTER_AFTER}")
#: How far left of a number a country name is looked for.
HINT_WINDOW: Final = 40


class Found(NamedTuple):
    """A valid number found in a run: its span in the text, E.164, and how it was written."""

    start: int
    end: int
    e164: str
    region_source: str  # "region" (the configured one), "country_hint" or "plus" (its own)
    formatted: bool  # written with separators, not as bare digits
    extension: bool
    blocked: tuple[str, ...]  # kinds of decoy found in the same run

    @property
    def international(self) -> bool:
        return self.region_source == "plus"


# Deletes everything but the ASCII digits of an ASCII string.
_NOT_DIGITS: Final = str.maketrans("", "", "".join(chr(c) for c in range(128) if not 48 <= c <= 57))


def _read_e164(text: str, digits: str, plus: bool, region: str | None) -> tuple[str, bool] | None:
    """(E.164, valid) of a candidate as libphonenumber reads it (``text`` as written, ``digits`` its
    ASCII digits, ``plus`` whether it opens with '+'), or None when it is no number at all: the fast
    path of :mod:`phone_fastparse`, or phonenumbers itself when that cannot decide."""
    fast = fast_e164(digits, plus, region)
    if fast != UNSURE:
        return fast if isinstance(fast, tuple) else None
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164)), bool(
        phonenumbers.is_valid_number(number)
    )


def _valid_e164(text: str, digits: str, plus: bool, region: str | None) -> str | None:
    """E.164 of the valid number ``text`` is read as in ``region``, or None."""
    read = _read_e164(text, digits, plus, region)
    if read is None:
        return None
    e164, valid = read
    if valid:
        return e164
    # A retired form of a number in use (Mexico's mobile 1, Brazil's 8-digit mobiles): the person wrote
    # a real number, so report the form that is in use today.
    current = canonical(e164)
    if current != e164:
        read = _read_e164(current, current[1:], True, None)
        if read is not None and read[1]:
            return read[0]
    return None


# Countries whose numbers are written with their trunk prefix '0' when written without a country code
# ("030 1234567", "06 12 34 56 78", "07700 900123"). Digits without it that libphonenumber would still
# read as one of their numbers are, in chat, mostly something else ("PED 2024 7968970" is no Berlin
# landline), unless a phone label says they are a phone.
_TRUNK_WRITTEN: Final = frozenset(
    ("GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "AU", "NZ", "SE", "FI", "JP", "KR", "ZA", "TR", "IL")
)


def _as_written_there(text: str, e164: str, digits: str, region: str) -> bool:
    """Whether national ``digits`` read as ``e164`` are written as ``region`` writes its numbers: with
    the trunk prefix where the country dials one (its freephone "1800 ..." numbers have none), or
    with the area code in brackets, where the prefix is often left out ("(20) 3346 1234")."""
    if region not in _TRUNK_WRITTEN or digits.startswith("0") or text.startswith("("):
        return True
    national = phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.NATIONAL)
    return not str(national).startswith("0")


def parse_valid(
    text: str, region: str | None, hint: str | None = None, named: bool = False
) -> tuple[str, str] | None:
    """(E.164, region source) of the valid number ``text`` (ASCII) is: with its own country code
    (opening with '+'), else in the hinted country (when the text named one: "my UK mobile"), else in
    ``region``, else after an international prefix "00" typed where it is not the region's.

    ``named``: the text says it is a phone. Then a national number need not be written as its country
    writes it (see :func:`_as_written_there`), and digits that are no number of the region may open
    with their country code, the '+' left out ("my number is 44 7911 123456")."""
    digits = text.translate(_NOT_DIGITS)
    if text.lstrip("( ").startswith("+"):
        e164 = _valid_e164(text, digits, True, None)
        return (e164, "plus") if e164 is not None else None
    countries = [(hint, "country_hint")] if hint is not None and hint != region else []
    if region is not None:
        countries.append((region, "region"))
    for country, source in countries:
        e164 = _valid_e164(text, digits, False, country)
        if e164 is None:
            continue
        if _as_written_there(text, e164, digits, country):
            return e164, source
        if named:
            # Without the trunk prefix its country writes, a phone is rather a number from abroad with
            # its '+' left out ("44 7911 123456" to a German business), if it is one.
            plus = _valid_e164("+" + text, digits, True, None)
            return (plus, "plus") if plus is not None else (e164, source)
    if digits.startswith("00") and (e164 := _valid_e164("+" + text[2:], digits[2:], True, None)) is not None:
        return e164, "plus"
    if named and not digits.startswith("0") and (e164 := _valid_e164("+" + text, digits, True, None)):
        return e164, "plus"
    return None


# What separates items of a list or sentences: where a run that opens with an identifier may go on with
# another value ("order #12345678 / 415-555-0134", "CPF 870.518.163-84. 07 81 82 80 40"); a bracket
# or a bare slash does not ("version 14.0.14 (85946695)", "Steuernummer 18/507/15253").
_LIST_SEP_RE: Final = re.compile(r"\s+/\s*|\s*/\s+|\s+[-\u2013\u2014]+\s+|\s*-{2,}\s*|\.\s+|\s{2,}|\s+~\s*")


def next_item(run: str) -> int | None:
    """Where the next item of a list begins in a run, if the run holds a list separator (a run of digits
    alone, the usual order or tracking number, holds none)."""
    if run.isdigit():
        return None
    match = _LIST_SEP_RE.search(fold(run))
    return match.end() if match is not None else None


# A value of three digits or more, its groups joined without a space ("12345", "2025-449810"), then a
# space and more digits. A shorter first group is no value of its own ("Steuer-ID 12 345 678 901").
_VALUE_THEN_MORE_RE: Final = re.compile(r"(?=(?:\S*?\d){3})\d+(?:[^\d\s]+\d+)*\s+(?=[(+]?\d)")
# Digits written the way only a phone is: with its punctuation or a leading '+' ("415-555-0134",
# "(11) 98765-4321"), as one group long enough to be a whole number ("4155550134"), or opening with a
# trunk or international prefix '0' before nine digits or more ("07404 051326", "0091 81216 72138").
# Other groups split by spaces alone may be the rest of the value before them: cards, tracking numbers
# ("2960 4455 1700").
_WRITTEN_AS_PHONE_RE: Final = re.compile(r"\+|.*[-./()]|\d{9,}\Z|0(?=(?:\D*\d){8})")


def after_value(run: str) -> int | None:
    """Where a number written as a phone begins after the first value of a run and a plain space
    ("12345 415-555-0134": 6; "12345 0171 2345678": None). A run of digits alone has no space."""
    if run.isdigit():
        return None
    folded = fold(run)
    match = _VALUE_THEN_MORE_RE.match(folded)
    if match is None or _WRITTEN_AS_PHONE_RE.match(folded, match.end()) is None:
        return None
    return match.end()


def _lead(text: str, at: int) -> int:
    """Where the number whose digits start at ``at`` starts: at its leading '+' or '(', if any."""
    before = text[max(0, at - 4) : at]
    if "+" not in before and "(" not in before and "\uff0b" not in before and "\uff08" not in before:
        return at  # the pattern needs one of them: most numbers are spared the search
    lead = _LEAD_RE.search(text, max(0, at - 4), at)
    return lead.start() if lead is not None else at


def _segments(run: str, groups: list[Group], blocked: bool) -> list[list[int]]:
    """Indices of unblocked groups, cut at blocked groups and at strong separators."""
    if not blocked and _STRONG_MARK_RE.search(run) is None:
        return [list(range(len(groups)))]  # the usual run: one segment (no gap can be a strong separator)
    segments: list[list[int]] = [[]]
    for index, group in enumerate(groups):
        if group.blocked:
            segments.append([])
            continue
        if segments[-1]:
            gap = run[groups[index - 1].end : group.start]
            # Of the one-character separators only '/' is strong ("415/555" are two numbers).
            if gap == "/" if len(gap) == 1 else _STRONG_SEP_RE.fullmatch(gap):
                segments.append([])
        segments[-1].append(index)
    return [s for s in segments if s]


class Run:
    """One run of digits, ``text[start:end]`` (``low`` is the text lowercased, or None), with the groups
    a decoy check of :mod:`phone_identifiers` recognizes blocked; :meth:`numbers` reads what is left
    once the run's label said it may hold phones."""

    def __init__(self, text: str, low: str | None, start: int, end: int) -> None:
        self.text, self.low, self.start, self.end = text, low, start, end
        self.run = fold(text[start:end])
        self.groups = [Group(*m.span()) for m in _GROUP_RE.finditer(self.run)]
        view = RunView(
            self.run, self.groups, fold(text[max(0, start - 4) : start]), fold(text[end : end + 12])
        )
        self.blocked = block_decoys(view)
        self.sizes = [0 if g.blocked else g.end - g.start for g in self.groups]
        self.attempts = MAX_PARSES_PER_RUN  # what one reading may cost (see numbers)
        self.international = False
        self.named = False
        self._hint: str | bool | None = False  # False: not looked for yet

    @property
    def all_decoys(self) -> bool:
        """Whether every group of the run is a decoy (a date, a price...): then it holds no phone."""
        return self.blocked == len(self.groups)

    @property
    def hint(self) -> str | None:
        """The country named nearest before the run ("my UK mobile is ..."), looked for only when a
        parse needs it (a number with a '+' never does)."""
        if self._hint is False:
            low = self.low if self.low is not None else self.text.lower()
            names = _HINT_RE.findall(low, max(0, self.start - HINT_WINDOW), self.start)
            self._hint = _COUNTRY_HINTS[names[-1]] if names else None
        return self._hint if isinstance(self._hint, str) else None

    def numbers(self, region: str | None, international: object = False, named: bool = False) -> list[Found]:
        """The valid numbers in the run, read in ``region`` (or a country named just before, or their
        own; ``international`` when something says they are written with their country code but no
        '+', as in a WhatsApp link; ``named`` when a label says the run is a phone, see
        :func:`parse_valid`): longest valid joins of up to three consecutive segments, left to right,
        never across a sentence end; a segment no join explains may still hold a number written like a
        phone or a group standing alone (see :meth:`_trim`)."""
        self.international = bool(international)
        self.named = named
        self.attempts = MAX_PARSES_PER_RUN  # each reading of the run has its own budget
        segments = _segments(self.run, self.groups, self.blocked > 0)
        blocked = tuple(sorted({g.blocked for g in self.groups if g.blocked})) if self.blocked else ()
        found: list[Found] = []
        i = 0
        while i < len(segments) and self.attempts > 0:
            for j in range(self._join_limit(segments, i), i - 1, -1):
                result = self._parse(segments[i][0], segments[j][-1], region)
                if result is not None:
                    break
            else:
                j, (result, used) = i, self._trim(segments[i], region)
                if result is not None and used < len(segments[i]) - 1:
                    # The window left groups after it: they are read as a segment of their own
                    # ("415-555-0134 415-555-0199", "4155550134 4155550199").
                    segments.insert(i + 1, segments[i][used + 1 :])
            if result is not None:
                e164, source, lo, hi = result
                found.append(Found(lo, hi, e164, source, not self.text[lo:hi].isdigit(), False, blocked))
            i = j + 1
        if (
            found
            and found[-1].end == self.end
            and (ext := EXTENSION_RE.match(self.text, self.end)) is not None
        ):
            found[-1] = found[-1]._replace(end=ext.end(), extension=True)
        return found

    def _digits(self, first: int, last: int) -> int:
        """How many digits groups ``first..last`` hold, leaving out blocked ones."""
        return sum(self.sizes[first : last + 1])

    def _parse(self, first: int, last: int, region: str | None) -> tuple[str, str, int, int] | None:
        """(E.164, region source, start, end) of groups ``first..last`` as one valid number, with a
        leading '+' or '(' just before them."""
        if self.attempts <= 0 or not MIN_DIGITS <= self._digits(first, last) <= MAX_DIGITS:
            return None
        lo = _lead(self.text, self.start + self.groups[first].start)
        hi = self.start + self.groups[last].end
        piece = fold(self.text[lo:hi])
        if "(" in piece or ")" in piece:
            opened, closed = piece.count("("), piece.count(")")
            if opened > closed and piece.startswith("("):  # "(call me 415-555-0123)": a bracket of prose
                lo, piece, opened = lo + 1, piece[1:], opened - 1
            if opened != closed or opened > 1:
                return None  # "80.585 ((79.964)", "(80).(585) (79).(9)64": brackets no phone has
        self.attempts -= 1
        if self.international and not piece.startswith("+"):
            piece = "+" + piece
        # A number with its own country code needs no country named before it.
        hint = None if piece.lstrip("( ").startswith("+") else self.hint
        parsed = parse_valid(piece, region, hint, self.named)
        return (*parsed, lo, hi) if parsed is not None else None

    def _join_limit(self, segments: list[list[int]], i: int) -> int:
        j = i
        while j + 1 < len(segments) and j < i + 2:
            gap = self.run[self.groups[segments[j][-1]].end : self.groups[segments[j + 1][0]].start]
            if _SENTENCE_END_RE.fullmatch(gap):
                break
            j += 1
        return j

    def _trim(self, segment: list[int], region: str | None) -> tuple[tuple[str, str, int, int] | None, int]:
        """A number inside a longer segment, cut only at plain spaces, and the index of its last group in
        the segment: one written like a phone (dashes, dots, slashes or brackets inside, or a leading
        '+': "415-666-7777 123 Main"), or one group standing alone (see :meth:`_alone`). A space-grouped
        card, IBAN or tracking number never yields a window."""
        cuts = [k for k in range(len(segment) - 1) if self._gap(segment[k], segment[k + 1]).isspace()]
        if not cuts:
            return None, 0
        starts = [0] + [k + 1 for k in cuts]
        ends = [*cuts, len(segment) - 1]
        last = len(segment) - 1
        options = [
            (self._digits(segment[a], segment[b]), a, b)
            for a in starts
            for b in ends
            if a <= b
            and (a, b) != (0, last)
            and (self._phone_shaped(segment[a], segment[b]) or (a == b and self._alone(segment, a)))
        ]
        for count, a, b in sorted(options, key=lambda o: (-o[0], o[1])):
            if MIN_DIGITS <= count <= MAX_DIGITS and (result := self._parse(segment[a], segment[b], region)):
                return result, b
        return None, 0

    def _alone(self, segment: list[int], index: int) -> bool:
        """Whether a group of the segment is a value of its own: nine digits or more, or seven or more in
        a segment whose every group is that long or a count of one or two digits ("4155550134
        4155550199", "we'll be 6 2013188051"). "0151 2345678" is one number written in two groups, "UPC
        0 12345 67890 5" a code."""
        sizes = [self.groups[g].end - self.groups[g].start for g in segment]
        if sizes[index] >= _WHOLE_NUMBER_DIGITS:  # a whole national number: "12345 4155550134"
            return True
        return sizes[index] >= MIN_DIGITS and all(size >= MIN_DIGITS or size <= 2 for size in sizes)

    def _gap(self, left: int, right: int) -> str:
        return self.run[self.groups[left].end : self.groups[right].start]

    def _phone_shaped(self, first: int, last: int) -> bool:
        inner = self.run[self.groups[first].end : self.groups[last].start]
        at = self.start + self.groups[first].start
        return any(ch in "-./()" for ch in inner) or _lead(self.text, at) != at
