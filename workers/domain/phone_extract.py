"""Find phone numbers in chat text, with the evidence for each and whose number it is.

How it works, cheapest step first (most chat has no phone, so most messages stop at step 1):

1. One regular expression finds *digit runs*: at least 7 digits with at most 3 separator characters
   (spaces, dashes, dots, slashes, brackets, their fullwidth forms) between neighbours. ``\\d`` matches
   any Unicode decimal digit, so Arabic-Indic and fullwidth digits are found in the original text and
   every span points into it; only a same-length ASCII copy of a run is ever parsed.
2. Inside a run, groups that are something else are blocked: dates, times, year ranges, fractions,
   decimals, prices, percentages, ZIP+4 codes, IP addresses, card numbers.
3. What is left is split at strong separators (" - ", "/", "--", ". ") into segments; the longest
   consecutive segments that libphonenumber calls a *valid* number (for the configured region, or the
   country the number itself carries) become candidates. A run is never cut at a plain space or dash,
   so a window of a card or order number can never come out as a phone.
4. The words around each candidate (:mod:`workers.domain.phone_cues`) drop identifiers ("order #",
   "tracking number", "CPF") and say whose number it is.

Confidence (for identity resolution): the probability that the number identifies the *sender* of an
inbound message.

* >= 0.9: an explicit self cue ("my number is", "call/text me at", "reach me", "cell:"), owner SENDER;
* 0.6-0.75: a bare plausible number alone in an inbound message, owner SENDER (0.7 when punctuated or
  international, 0.6 for a plain digit string);
* 0.45: one of several uncued numbers in one message, owner UNKNOWN;
* 0.15: someone else's number ("my wife's number", "the venue's number", "call my assistant at"),
  owner OTHER_PERSON;
* <= 0.1: owner BUSINESS, never identifying: the business's own numbers (configured per account) and
  every number in an outbound message.

Decoys are not returned at all. Work is bounded: text past :data:`MAX_TEXT_CHARS` is not read, at
most :data:`MAX_RUNS` digit runs are examined, and reading stops after ``max_tries`` failed parses.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from workers.domain.phone_cues import (
    LEFT_WINDOW,
    RIGHT_WINDOW,
    CueReading,
    LeftReading,
    anti_cue_at,
    read_cues,
    read_cues_after_anti,
)
from workers.domain.phone_fastparse import UNSURE, fast_e164
from workers.domain.phone_normalize import canonical, fold

MAX_TEXT_CHARS: Final = 10_000
DEFAULT_MAX_TRIES: Final = 64
MAX_RUNS: Final = 1_000
MAX_PARSES_PER_RUN: Final = 24
MIN_DIGITS: Final = 7
MAX_DIGITS: Final = 17  # IDD prefix (011 / 00) + the longest E.164 number


class Owner(enum.StrEnum):
    """Whose number a candidate is."""

    SENDER = "sender"
    OTHER_PERSON = "other_person"
    BUSINESS = "business"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ExtractionContext:
    """What extraction knows about the message besides its text.

    ``direction`` is "in" (customer to business) or "out" (business to customer);
    ``business_numbers`` are the E.164 numbers of the business's own lines (configured per account);
    ``channel`` is "sms", "whatsapp", "instagram", "messenger" or "booking".
    """

    direction: str = "in"
    business_numbers: frozenset[str] = frozenset()
    channel: str = ""


@dataclass(frozen=True)
class Candidate:
    """One phone number found in a text. ``text[start:end] == raw``; ``e164`` has no extension."""

    e164: str
    start: int
    end: int
    confidence: float
    evidence: tuple[str, ...]
    owner: Owner
    raw: str = field(default="")


# --- step 1: digit runs ---------------------------------------------------------------------------------

_SEP_CHARS: Final = (
    " \t\u00a0\u2000-\u200a\u202f\u3000\\-\u2010-\u2015\u2212./()~\uff08\uff09\uff0d\uff0e\uff0f"
)
_SEP: Final = f"[{_SEP_CHARS}]"
# Digit-first, so the regex engine can skip to the next digit quickly on the common digit-free text.
_RUN_RE: Final = re.compile(rf"\d(?:{_SEP}{{0,3}}\d){{{MIN_DIGITS - 1},}}")
_GROUP_RE: Final = re.compile(r"[0-9]+")
_LEAD_RE: Final = re.compile(r"(?:\(\s?)?(?:[+\uff0b]\s?){1,2}(?:\(\s?)?$|\(\s?$")
_EXT_RE: Final = re.compile(
    r"\s{0,4}(?:,\s{0,2})?(?:ext(?:ension|n)?\.?|x|\#|int\.?|ramal|anexo|durchwahl|poste|interno)"
    r"\s{0,4}[:.]?\s{0,2}(\d{1,7})(?![\d\w])",
    re.IGNORECASE,
)
# Strong separators cut a run into segments that may be separate numbers.
_STRONG_SEP_RE: Final = re.compile(
    r"^(?:\s*/\s*|\s+[-\u2013\u2014]+\s+|\s*-{2,}\s*|\.\s+|\s{2,}|\)?\s+\(|\)\(|\s+~\s*)$"
)
_WORD_END_RE: Final = re.compile(r"[^\W\d_]+$")
# Separators no number spans: the end of a sentence.
_HARD_SEP_RE: Final = re.compile(r"^\.\s+$")
# Words that may be glued to the left of a number in hurried typing ("tel:" has its colon, "call415" not).
_GLUE_OK_RE: Final = re.compile(
    r"(?:tel|cell|cel|phone|ph|mob|mobile|call|at|on|whatsapp|wa|no|nr|fone|zap|handy|nummer)$", re.IGNORECASE
)

# --- step 2: things inside a run that are not phone digits ----------------------------------------------

_DATE_RE: Final = re.compile(
    r"(?<![0-9])(?:(?P<a>[0-9]{1,2})(?P<s1>[./-])(?P<b>[0-9]{1,2})(?P=s1)(?P<y>(?:19|20)?[0-9]{2})"
    r"|(?P<y2>(?:19|20)[0-9]{2})(?P<s2>[./-])(?P<m2>[0-9]{1,2})(?P=s2)(?P<d2>[0-9]{1,2}))(?![0-9])"
)
_COMPACT_DATE_RE: Final = re.compile(
    r"^(?:19|20)[0-9]{2}[-/.]?(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?![0-9])"
)
_YEAR_RANGE_RE: Final = re.compile(r"(?<![0-9])(?:19|20)[0-9]{2}\s?[-\u2013/]\s?(?:19|20)[0-9]{2}(?![0-9])")
_FRACTION_RE: Final = re.compile(r"(?<![0-9/])[0-9]{1,2}/[0-9]{1,2}(?![0-9/])")
_DECIMAL_RE: Final = re.compile(r"(?<![0-9.,])[0-9]{1,4}[.,][0-9]{1,2}(?![0-9])")
_ZIP4_RE: Final = re.compile(r"[0-9]{5}-[0-9]{4}(?![0-9-])")
_IP_RE: Final = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$")
_CARD_GROUPS_RE: Final = re.compile(r"(?<![0-9])[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,7}(?![0-9])")
_CPF_RE: Final = re.compile(r"(?<![0-9])[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}(?![0-9])")
_CNPJ_RE: Final = re.compile(r"(?<![0-9])[0-9]{2}\.[0-9]{3}\.[0-9]{3}/[0-9]{4}-[0-9]{2}(?![0-9])")
# What follows the digits: a time ("15:30", " pm") or an amount (" USD", "%"). The two can never both
# match the same text (their words differ by the second letter at the latest), so one pattern tells.
_AFTER_RE: Final = re.compile(
    r"^(?:(?P<time>:[0-9]{2}|[hH][0-9]{2}|\s?(?:am|pm|a\.m\.|p\.m\.|uhr|hrs|h)\b)"
    r"|(?P<money>\s?(?:[$\u20ac\u00a3\u00a5\u20b9%]|usd|eur|gbp|mxn|brl|reais|euros?|dollars?|bucks|pesos"
    r"|z\u0142|kr)(?![a-z])))",
    re.IGNORECASE,
)
_CURRENCY_BEFORE_RE: Final = re.compile(
    r"(?:[$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u20ba]|R\$|US\$|USD|EUR|GBP|MXN|BRL|Rs\.?)\s?$"
)
_PRICE_HEAD_RE: Final = re.compile(r"^[0-9]{1,3}(?:[,.][0-9]{3})*(?:[.,][0-9]{1,2})?(?![0-9])")
_PRICE_TAIL_RE: Final = re.compile(r"(?<![0-9])[0-9]{1,3}(?:[,.][0-9]{3})*(?:[.,][0-9]{1,2})?$")

# Country names and demonyms that say which numbering plan a national-format number uses.
_COUNTRY_HINTS: Final = {
    "uk": "GB",
    "british": "GB",
    "england": "GB",
    "london": "GB",
    "mexico": "MX",
    "méxico": "MX",
    "mexican": "MX",
    "mexicano": "MX",
    "germany": "DE",
    "german": "DE",
    "deutschland": "DE",
    "deutsche": "DE",
    "france": "FR",
    "french": "FR",
    "français": "FR",
    "française": "FR",
    "spain": "ES",
    "spanish": "ES",
    "españa": "ES",
    "español": "ES",
    "brazil": "BR",
    "brasil": "BR",
    "brazilian": "BR",
    "brasileiro": "BR",
    "canada": "CA",
    "canadian": "CA",
    "australia": "AU",
    "aussie": "AU",
    "australian": "AU",
    "india": "IN",
    "indian": "IN",
    "ireland": "IE",
    "irish": "IE",
    "italy": "IT",
    "italian": "IT",
    "italia": "IT",
    "argentina": "AR",
    "argentine": "AR",
    "usa": "US",
    "u.s.": "US",
    "american": "US",
    "portugal": "PT",
    "portuguese": "PT",
    "netherlands": "NL",
    "dutch": "NL",
}
#: How far left of a number a country name is looked for.
HINT_WINDOW: Final = 40  # as the anti-cue check's window, so the words it read often serve here too
_HINT_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:\.[^\W\d_]\.)?")
_LETTERS_RE: Final = re.compile(r"[^\W\d_]+")
_HINT_RUNS: Final = frozenset(word.split(".", 1)[0] for word in _COUNTRY_HINTS)


@dataclass(slots=True)
class _Group:
    start: int  # offsets in the run
    end: int
    blocked: str = ""


def _block(groups: list[_Group], start: int, end: int, why: str) -> int:
    """Mark the groups overlapping ``start..end`` as ``why``; how many were newly marked."""
    marked = 0
    for group in groups:
        if group.start < end and group.end > start and not group.blocked:
            group.blocked = why
            marked += 1
    return marked


def _block_all(pattern: re.Pattern[str], run: str, groups: list[_Group], why: str) -> int:
    marked = 0  # a plain loop: most runs have no match, and a generator costs more than the test
    for match in pattern.finditer(run):
        marked += _block(groups, match.start(), match.end(), why)
    return marked


# The characters a time or an amount can start with right after the digits ("15:30", " pm", "$", " EUR")
# and end with right before them ("$", "R$ ", "USD"): cheap tests before the patterns.
_AFTER_FIRST: Final = frozenset(":hHaApPuU$%eEgGmMbBrRdDzZkK")
_MONEY_LAST: Final = frozenset("$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u20baDRPLNs.")


def _unit_may_follow(after: str) -> bool:
    """Whether _AFTER_RE may match ``after`` (not empty): a time or an amount begins with one of
    _AFTER_FIRST, or a non-ASCII character (case folding), after at most one whitespace character."""
    first = after[0]
    if first in _AFTER_FIRST or not first.isascii():
        return True
    second = after[1:2]
    return first.isspace() and (second in _AFTER_FIRST or not second.isascii())


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        value = ord(ch) - 48
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _short_middle(groups: list[_Group]) -> bool:
    # A plain loop, not any(): this runs for most numbers, and a generator costs more than the test.
    for group in groups[1:-1]:  # noqa: SIM110
        if group.end - group.start <= 2:
            return True
    return False


def _plausible_date(day_or_month: str, month_or_day: str) -> bool:
    a, b = int(day_or_month), int(month_or_day)
    return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)


def _block_decoys(run: str, groups: list[_Group], before: str, after: str) -> int:
    """Mark the groups of ``run`` (ASCII-folded) that belong to a decoy, not to a phone number; how
    many were marked."""
    marked = 0
    slash, dot = "/" in run, "." in run
    punctuated = slash or dot or "-" in run
    # A date's middle part (day or month) is a group of one or two digits between two others.
    for match in _DATE_RE.finditer(run) if punctuated and len(groups) > 2 and _short_middle(groups) else ():
        lo, hi = match.span()
        if lo >= 2 and run[lo - 2].isdigit() and run[lo - 1] in "./-":
            continue  # the middle of a longer dotted/dashed sequence: a phone like 06-12-34-56-78
        a, s1, b, _, _, s2, m2, d2 = match.groups()
        if run[hi : hi + 1] == (s1 or s2) and run[hi + 1 : hi + 2].isdigit():
            continue
        if not (_plausible_date(a, b) if a is not None else _plausible_date(d2, m2)):
            continue
        marked += _block(groups, lo, hi, "date")
    if marked == len(groups):
        return marked  # all a date (the usual decoy): later checks only mark groups not yet marked
    compact = _COMPACT_DATE_RE.match(run) if run[:2] in ("19", "20") else None
    if compact is not None and len(run) > compact.end() and run[compact.end()] == " ":
        marked += _block(groups, 0, compact.end(), "date")
    # Each decoy needs some character or shape to be there at all; checking that first is much cheaper
    # than running its pattern over every run.
    if punctuated or " " in run:
        if ("19" in run or "20" in run) and (slash or "-" in run or "\u2013" in run):  # the range's dash
            marked += _block_all(_YEAR_RANGE_RE, run, groups, "year_range")
        if slash:
            marked += _block_all(_FRACTION_RE, run, groups, "fraction")
        if len(groups) >= 4:
            marked += _block_all(_CARD_GROUPS_RE, run, groups, "card")
        if dot and ("-" in run or slash):
            marked += _block_all(_CPF_RE, run, groups, "tax_id")
            marked += _block_all(_CNPJ_RE, run, groups, "tax_id")
    zip4 = _ZIP4_RE.match(run) if run[5:6] == "-" else None
    if zip4 is not None:  # a ZIP+4 opens its run ("CA 95814-2345"); "(11) 98765-4321" is a phone
        marked += _block(groups, 0, zip4.end(), "zip4")
    for match in _DECIMAL_RE.finditer(run) if (dot or "," in run) else ():
        # "12.1 - 23.71" is a list of decimals; but "06.12.34" or "7493.524" are phone groups.
        left = run[: match.start()]
        right = run[match.end() :]
        if (not left or left[-2:] in {"- ", "/ "}) and (not right or right[:2] in {" -", " /"}):
            marked += _block(groups, match.start(), match.end(), "decimal")
    if dot and _IP_RE.match(run) and all(int(part) <= 255 for part in run.split(".")):
        marked += _block(groups, 0, len(run), "ip_address")
    first_after = after[:1]
    follows = _AFTER_RE.match(after) if first_after and _unit_may_follow(after) else None
    if follows is not None and follows.lastgroup == "time":
        marked += _block(groups, groups[-1].start, groups[-1].end, "time")
    money_after = follows is not None and follows.lastgroup == "money"
    if before and before.rstrip()[-1:] in _MONEY_LAST and _CURRENCY_BEFORE_RE.search(before):
        price = _PRICE_HEAD_RE.match(run)
        if price is not None:
            marked += _block(groups, 0, price.end(), "price")
    if money_after:
        why = "percent" if "%" in after[:2] else "price"
        price = _PRICE_TAIL_RE.search(run)
        if price is not None:
            marked += _block(groups, price.start(), len(run), why)
        elif not after[:1].isspace():  # "415-666-7777$": a sign glued to the digits makes them money
            marked += _block(groups, groups[-1].start, groups[-1].end, why)
    # Card numbers (issuer digit 2-6, 15 or 16 digits, Luhn check) typed without the usual 4-4-4-4.
    if len(run) < 15:
        return marked
    digits = "".join(run[g.start : g.end] for g in groups if not g.blocked)
    if (
        len(digits) in (15, 16)
        and digits[0] in "23456"
        and _luhn(digits)
        and not before.rstrip().endswith("+")
    ):
        marked += _block(groups, 0, len(run), "card")
    return marked


# --- step 3: segments and validation --------------------------------------------------------------------


@dataclass(slots=True)
class _Parsed:
    e164: str
    region_source: str


_NOT_DIGITS_RE: Final = re.compile(r"[^0-9]+")
_DROP_ASCII_NON_DIGITS: Final = {code: None for code in range(128) if not 48 <= code <= 57}


def _digits_of(text: str) -> str:
    # str.translate is cheaper than a regex substitution on the short ASCII strings candidates are.
    return text.translate(_DROP_ASCII_NON_DIGITS) if text.isascii() else _NOT_DIGITS_RE.sub("", text)


def _read_e164(text: str, digits: str, plus: bool, region: str | None) -> tuple[str, bool] | None:
    """(E.164, valid) of a folded candidate (``digits`` are its digits, ``plus`` says it opens with
    '+'), or None when it is no number."""
    fast = fast_e164(digits, plus, region)
    if fast != UNSURE:
        return fast if isinstance(fast, tuple) else None
    return _slow_e164(text, region)


def _slow_e164(text: str, region: str | None) -> tuple[str, bool] | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    e164 = str(phonenumbers.format_number(number, PhoneNumberFormat.E164))
    return e164, bool(phonenumbers.is_valid_number(number))


def _parse_one(text: str, digits: str, plus: bool, region: str | None) -> str | None:
    """E.164 of a valid number read from ``text``, or None."""
    read = fast_e164(digits, plus, region)  # _read_e164, inlined: this runs for every candidate
    if read == UNSURE:
        read = _slow_e164(text, region)
    if not isinstance(read, tuple):
        return None
    e164, valid = read
    if valid:
        return e164
    # A retired form of a number in use (Mexico's mobile 1, Brazil's 8-digit mobiles): the person wrote
    # a real number, so report the form that is in use today.
    key = canonical(e164)
    if key != e164:
        current = _read_e164(key, key[1:], True, None)
        if current is not None and current[1]:
            return current[0]
    return None


def _parse_valid(text: str, plus: bool, region: str | None, hint: str | None) -> _Parsed | None:
    """Valid number read from ``text``: with its own country code (``plus``: it opens with '+'), else
    in the hinted country (when the text named one: "my UK mobile"), else in ``region``."""
    # _digits_of, inlined: this runs for every candidate
    digits = text.translate(_DROP_ASCII_NON_DIGITS) if text.isascii() else _NOT_DIGITS_RE.sub("", text)
    if plus:
        e164 = _parse_one(text, digits, True, None)
        return _Parsed(e164, "plus") if e164 is not None else None
    if hint and hint != region:
        e164 = _parse_one(text, digits, False, hint)
        if e164 is not None:
            return _Parsed(e164, "country_hint")
    if region:
        e164 = _parse_one(text, digits, False, region)
        if e164 is not None:
            return _Parsed(e164, "region")
    if text.startswith("00"):  # the international prefix of most of the world, typed where it is not
        e164 = _parse_one("+" + text[2:], digits[2:], True, None)
        if e164 is not None:
            return _Parsed(e164, "plus")
    return None


@dataclass(slots=True)
class _Found:
    start: int  # offsets in the text
    end: int
    parsed: _Parsed
    formatted: bool
    international: bool
    extension: bool
    blocked_nearby: tuple[str, ...]
    left: LeftReading | None = None  # the clause before it, when anti_cue_at read it already


def _no_strong_gap(run: str) -> bool:
    """No strong separator can be in this ASCII run. Each needs a '/', "--", ")(" or whitespace (see
    _STRONG_SEP_RE), and the only ASCII whitespace a run holds is a space or a tab; with spaces only,
    each needs one of "  ", " -", ". ", " (" or " ~" ("415 555 0123" has none)."""
    if "/" in run or "\t" in run or "--" in run or ")(" in run:
        return False
    return " " not in run or (
        "  " not in run and " -" not in run and ". " not in run and " (" not in run and " ~" not in run
    )


def _segments(run: str, groups: list[_Group]) -> list[list[int]]:
    """Indices of unblocked groups, cut at blocked groups and at strong separators."""
    segments: list[list[int]] = [[]]
    for index, group in enumerate(groups):
        if group.blocked:
            segments.append([])
            continue
        if segments[-1]:
            gap = run[groups[index - 1].end : group.start]
            # Of the one-character separators only '/' is strong ("415/555" are two numbers).
            if gap == "/" if len(gap) == 1 else _STRONG_SEP_RE.match(gap):
                segments.append([])
        segments[-1].append(index)
    return [s for s in segments if s]


_UNREAD: Final = "?"  # a country hint not looked for yet
_NO_WORDS: Final[list[str]] = []


@dataclass(slots=True)
class _RunReader:
    """Reads one digit run; ``attempts`` caps the parses spent on it."""

    text: str
    run_start: int
    run: str
    groups: list[_Group]
    region: str | None
    blocked: bool  # some group is a decoy
    words_from: int  # the lowercased words of text[words_from:run_start], already read
    words: list[str]
    left: LeftReading | None  # anti_cue_at's reading of the clause before the run, when reusable
    attempts: int = MAX_PARSES_PER_RUN
    _hint: str | None = _UNREAD

    @property
    def hint(self) -> str | None:
        """The country named just before the run ("my UK mobile"), read only when a parse needs it:
        numbers with a '+' never do."""
        if self._hint == _UNREAD:
            start = self.run_start
            lo = max(0, start - HINT_WINDOW)
            self._hint = _country_hint(self.text[lo:start], self.words if self.words_from == lo else None)
        return self._hint

    def parse(self, first: int, last: int) -> tuple[_Parsed, int, int] | None:
        """Parse groups ``first..last`` (with a leading '+' or '(' just before them)."""
        if self.attempts <= 0:
            return None
        text = self.text
        lo = self.run_start + self.groups[first].start
        hi = self.run_start + self.groups[last].end
        window = text[lo - 4 if lo > 4 else 0 : lo]  # max(0, lo - 4), without the call
        if "+" in window or "(" in window or "\uff0b" in window:  # _lead, inlined
            lead = _LEAD_RE.search(text, max(0, lo - 4), lo)
            if lead is not None:
                lo = lead.start()
        piece = text[lo:hi]
        if not piece.isascii():
            piece = fold(piece)
        opened, closed = (piece.count("("), piece.count(")")) if "(" in piece or ")" in piece else (0, 0)
        if opened > closed and piece.startswith("("):  # "(call me 415-555-0123)": the bracket is prose
            lo += 1
            piece = piece[1:]
            opened -= 1
        if opened != closed or opened > 1:
            return None  # "80.585 ((79.964)", "(80).(585) (79).(9)64": brackets no phone has
        self.attempts -= 1
        plus = piece.lstrip("( ").startswith("+")
        parsed = _parse_valid(piece, plus, self.region, None if plus else self.hint)
        return (parsed, lo, hi) if parsed is not None else None

    def digits(self, first: int, last: int) -> int:
        groups = self.groups
        if first == last:
            return groups[first].end - groups[first].start if not groups[first].blocked else 0
        return sum(g.end - g.start for g in groups[first : last + 1] if not g.blocked)

    def interpret(self) -> list[_Found]:
        """Valid numbers in the run: longest valid joins of consecutive segments, left to right; a
        segment no join explains may still hold one phone-shaped number (see :meth:`trim`)."""
        run = self.run
        if not self.blocked and run.isascii() and _no_strong_gap(run):
            # The usual case: nothing blocked and no separator that cuts (see _no_strong_gap), so the run
            # is one segment of all its groups.
            groups = self.groups
            last = len(groups) - 1
            count = len(run.translate(_DROP_ASCII_NON_DIGITS))
            result = self.parse(0, last) if MIN_DIGITS <= count <= MAX_DIGITS else None
            if result is None:
                result = self.trim(list(range(last + 1)))
            return [] if result is None else [self._found(*result, ())]
        segments = _segments(run, self.groups)
        blocked = tuple(sorted({g.blocked for g in self.groups if g.blocked})) if self.blocked else ()
        if len(segments) == 1:  # the run is one number, or none
            segment = segments[0]
            count = self.digits(segment[0], segment[-1])
            result = self.parse(segment[0], segment[-1]) if MIN_DIGITS <= count <= MAX_DIGITS else None
            if result is None:
                result = self.trim(segment)
            return [] if result is None else [self._found(*result, blocked)]
        found: list[_Found] = []
        i = 0
        while i < len(segments) and self.attempts > 0:
            best: tuple[int, tuple[_Parsed, int, int]] | None = None
            for j in range(self._join_limit(segments, i), i - 1, -1):
                count = self.digits(segments[i][0], segments[j][-1])
                if MIN_DIGITS <= count <= MAX_DIGITS:
                    result = self.parse(segments[i][0], segments[j][-1])
                    if result is not None:
                        best = (j, result)
                        break
            if best is None:
                result = self.trim(segments[i])
                best = (i, result) if result is not None else None
            if best is None:
                i += 1
                continue
            j, (parsed, lo, hi) = best
            found.append(self._found(parsed, lo, hi, blocked))
            i = j + 1
        return found

    def _found(self, parsed: _Parsed, lo: int, hi: int, blocked: tuple[str, ...]) -> _Found:
        formatted = not self.text[lo:hi].isdigit()
        left = self.left if lo == self.run_start else None  # the reading is for the run's start only
        return _Found(lo, hi, parsed, formatted, parsed.region_source == "plus", False, blocked, left)

    def trim(self, segment: list[int]) -> tuple[_Parsed, int, int] | None:
        """A punctuated number inside a longer run, cut only at plain spaces: "415-666-7777 123 Main".

        Only sub-ranges written like a phone (dashes, dots, slashes or brackets inside, or a leading
        '+') are tried, so a space-grouped card, IBAN or tracking number never yields a window.
        """
        if len(segment) < 2:
            return None
        cuts = [k for k in range(len(segment) - 1) if self._space_only(segment[k], segment[k + 1])]
        if not cuts:
            return None
        starts = [0] + [k + 1 for k in cuts]
        ends = [k for k in cuts] + [len(segment) - 1]
        options: list[tuple[int, int, int]] = []
        for a in starts:
            for b in ends:
                if b < a or (a == 0 and b == len(segment) - 1):
                    continue
                count = self.digits(segment[a], segment[b])
                if MIN_DIGITS <= count <= MAX_DIGITS and self._phone_shaped(segment[a], segment[b]):
                    options.append((count, a, b))
        for _, a, b in sorted(options, key=lambda o: (-o[0], o[1])):
            result = self.parse(segment[a], segment[b])
            if result is not None:
                return result
        return None

    def _join_limit(self, segments: list[list[int]], i: int) -> int:
        """Last segment a number starting at segment ``i`` may extend to: at most three segments,
        never across the end of a sentence ("9002309. 158")."""
        j = i
        while j + 1 < len(segments) and j < i + 2:
            sep = self.run[self.groups[segments[j][-1]].end : self.groups[segments[j + 1][0]].start]
            if _HARD_SEP_RE.match(sep):
                break
            j += 1
        return j

    def _space_only(self, left: int, right: int) -> bool:
        sep = self.run[self.groups[left].end : self.groups[right].start]
        return sep.isspace()

    def _phone_shaped(self, first: int, last: int) -> bool:
        inner = self.run[self.groups[first].end : self.groups[last].start]
        if any(ch in "-./()" for ch in inner):
            return True
        return _lead(self.text, self.run_start + self.groups[first].start) is not None


def _lead(text: str, at: int) -> int | None:
    """Where a leading '+' or '(' of the number starting at ``at`` begins, if it has one."""
    window = text[max(0, at - 4) : at]
    if "+" not in window and "(" not in window and "\uff0b" not in window:
        return None  # the pattern needs one of them
    lead = _LEAD_RE.search(text, max(0, at - 4), at)
    return lead.start() if lead is not None else None


def _country_hint(text: str, runs: list[str] | None = None) -> str | None:
    """The country named nearest the end of ``text`` ("my UK mobile is ..."), if any. ``runs`` are
    the runs of letters of ``text.lower()`` when the caller has them already."""
    # Every hint word is a plain run of letters, or "u.s." (whose first run is "u"): when no run of
    # letters is one, there is no hint, and the slower word pattern need not run.
    if runs is not None:
        if _HINT_RUNS.isdisjoint(runs):
            return None
        low = text.lower()
    else:
        low = text.lower()
        if _HINT_RUNS.isdisjoint(_LETTERS_RE.findall(low)):
            return None
    for word in reversed(_HINT_WORD_RE.findall(low)):
        region = _COUNTRY_HINTS.get(word)
        if region is not None:
            return region
    return None


_EXT_FIRST: Final = frozenset(",#eExXiIrRaAdDpP")


def _ext_may_follow(after: str) -> bool:
    r"""Whether _EXT_RE may match ``after`` (text right after the digits, opening with whitespace): past
    the whitespace and an optional comma, its word must begin with one of _EXT_FIRST, so any other ASCII
    character rules it out ("415-555-0123 thanks"). str.strip's whitespace is the pattern's ``\s``."""
    rest = after.lstrip()
    if rest[:1] == ",":
        rest = rest[1:].lstrip()
    first = rest[:1]
    return not first or first in _EXT_FIRST or not first.isascii()


def _is_latin_letter(ch: str) -> bool:
    return ch.isalpha() and (ch < "\u0250" or "\u1e00" <= ch <= "\u1eff")


# --- step 4: attribution --------------------------------------------------------------------------------


_NO_NUMBERS: Final[frozenset[str]] = frozenset()


@functools.lru_cache(maxsize=4096)
def _business_keys(numbers: frozenset[str]) -> frozenset[str]:
    return frozenset(canonical(n) for n in numbers)


# The only calling codes whose numbers canonical() may rewrite (Brazil, Argentina, Mexico).
_REWRITTEN_CODES: Final = ("+55", "+54", "+52")


def _is_business(e164: str, keys: frozenset[str]) -> bool:
    """``canonical(e164) in keys`` (``keys`` are canonical): a key is its own canonical form, and any
    other number canonical() leaves as it is, so only numbers it may rewrite need it called."""
    return e164 in keys or (e164.startswith(_REWRITTEN_CODES) and canonical(e164) in keys)


def _cues_for(found: _Found, text: str, owner: bool) -> CueReading:
    left = text[max(0, found.start - LEFT_WINDOW - 16) : found.start]
    right = text[found.end : found.end + RIGHT_WINDOW]
    return read_cues(left, right, owner=owner)


def _uncued(cues: CueReading) -> bool:
    return cues.anti is None and cues.self_cue is None and cues.other_cue is None and cues.label is None


def _attribute(
    found: _Found,
    cues: CueReading,
    context: ExtractionContext,
    business: bool,
    uncued_count: int,
) -> tuple[Owner, float, str] | None:
    """Owner, confidence and cue evidence of one number; None when the context says it is no phone."""
    if cues.anti is not None and not found.international:
        return None
    if business:
        return Owner.BUSINESS, 0.0, "business_number"
    if context.direction == "out":
        return Owner.BUSINESS, 0.1, "direction:out"
    if cues.other_cue is not None:
        return Owner.OTHER_PERSON, 0.15, f"cue:other:{cues.other_cue.lower()}"
    if cues.self_cue is not None:
        return Owner.SENDER, 0.95, f"cue:self:{cues.self_cue.lower()}"
    if cues.label is not None:
        return Owner.SENDER, 0.9, f"cue:label:{cues.label.lower()}"
    if uncued_count > 1:
        return Owner.UNKNOWN, 0.45, "several_uncued_numbers"
    return Owner.SENDER, (0.7 if found.formatted or found.international else 0.6), "bare_number"


def extract(
    text: str,
    region: str | None,
    context: ExtractionContext = ExtractionContext(),
    *,
    max_tries: int = DEFAULT_MAX_TRIES,
) -> list[Candidate]:
    """Phone numbers in ``text``, in order, each with its span, E.164, confidence, evidence and owner.

    ``region`` is the default numbering plan for numbers written without a country code (the
    business's or channel's configured country); ``None`` finds only numbers with a ``+``.
    ``max_tries`` bounds the parse attempts that fail (as ``PhoneNumberMatcher``'s does: found numbers
    do not count), and at most :data:`MAX_RUNS` digit runs of the first :data:`MAX_TEXT_CHARS`
    characters are read, so hostile input costs bounded time.
    """
    if not text:
        return []
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
    if text.isascii() and not _has_ascii_digit(text):
        return []  # most chat: ten substring scans in C are cheaper than the pattern's own scan
    match = _RUN_RE.search(text)
    if match is None:
        return []
    region_code = _region_code(region) if region else None
    budget = [max_tries if max_tries > 0 else 0]
    found: list[_Found] = []
    runs_seen = 0
    while match is not None and runs_seen < MAX_RUNS and budget[0] > 0:
        runs_seen += 1
        found.extend(_read_run(text, match, region_code, budget))
        match = _RUN_RE.search(text, match.end())
    if not found:
        return []
    numbers = context.business_numbers
    business_keys = _business_keys(numbers) if numbers else _NO_NUMBERS
    # Whose number it is needs the owner cues only for an inbound number that is not the business's;
    # anti-cues ("order #") are read for every number.
    outbound = context.direction == "out"
    if len(found) == 1:  # the usual case; a lone number needs no count of uncued ones
        item = found[0]
        mine = bool(business_keys) and _is_business(item.parsed.e164, business_keys)
        start, end = item.start, item.end  # _cues_for, inlined
        right = text[end : end + RIGHT_WINDOW]
        if item.left is not None:  # anti_cue_at read this clause and found no anti-cue in it
            cues = read_cues_after_anti(*item.left, right, not (outbound or mine))
        else:
            lo = start - LEFT_WINDOW - 16
            left = text[lo if lo > 0 else 0 : start]
            cues = read_cues(left, right, owner=not (outbound or mine))
        candidate = _candidate(text, item, cues, context, mine, 0)
        return [candidate] if candidate is not None else []
    business = [bool(business_keys) and _is_business(f.parsed.e164, business_keys) for f in found]
    readings = [_cues_for(f, text, not (outbound or mine)) for f, mine in zip(found, business, strict=True)]
    uncued = sum(1 for mine, cues in zip(business, readings, strict=True) if _uncued(cues) and not mine)
    candidates: list[Candidate] = []
    for item, cues, mine in zip(found, readings, business, strict=True):
        candidate = _candidate(text, item, cues, context, mine, uncued)
        if candidate is not None:
            candidates.append(candidate)
    return candidates


def _candidate(
    text: str, item: _Found, cues: CueReading, context: ExtractionContext, business: bool, uncued: int
) -> Candidate | None:
    attribution = _attribute(item, cues, context, business, uncued)
    if attribution is None:
        return None
    owner, confidence, cue_evidence = attribution
    if item.international:
        form = "format:international"
    else:
        form = "format:punctuated" if item.formatted else "format:digits"
    source = item.parsed.region_source
    evidence: tuple[str, ...] = (form, _REGION_EVIDENCE.get(source) or f"region:{source}", cue_evidence)
    if item.extension:
        evidence += ("extension",)
    if item.blocked_nearby:
        evidence += tuple(f"skipped:{why}" for why in item.blocked_nearby)
    start, end = item.start, item.end
    return _new_candidate(item.parsed.e164, start, end, confidence, evidence, owner, text[start:end])


_object_new: Final = object.__new__
_REGION_EVIDENCE: Final = {source: f"region:{source}" for source in ("region", "plus", "country_hint")}


def _new_candidate(
    e164: str, start: int, end: int, confidence: float, evidence: tuple[str, ...], owner: Owner, raw: str
) -> Candidate:
    """``Candidate(e164, start, end, confidence, evidence, owner, raw)``, built without the frozen
    dataclass's ``__init__``, which sets each field through ``object.__setattr__``: filling the
    instance's dict directly costs a third as much, and one is built for every number found. The
    object is the same (same fields, equality, hash and repr; still frozen against later changes)."""
    candidate: Candidate = _object_new(Candidate)
    fields = candidate.__dict__
    fields["e164"] = e164
    fields["start"] = start
    fields["end"] = end
    fields["confidence"] = confidence
    fields["evidence"] = evidence
    fields["owner"] = owner
    fields["raw"] = raw
    return candidate


@functools.lru_cache(maxsize=1024)
def _region_code(region: str) -> str | None:
    """The supported region ``region`` names, in capitals, or None (a configuration value: few kinds)."""
    code = region.upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def _has_ascii_digit(text: str) -> bool:
    return (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
    )


def _read_run(text: str, match: re.Match[str], region: str | None, budget: list[int]) -> list[_Found]:
    start, end = match.span()
    before_char = text[start - 1] if start else ""
    run = match.group(0)
    if not run.isascii():
        run = fold(run)
    after = text[end : end + 12]
    first_after = after[:1]
    # An extension can only begin with a space, a comma or one of its words' letters.
    maybe_ext = first_after and (
        first_after in _EXT_FIRST
        or not first_after.isascii()
        or (first_after.isspace() and _ext_may_follow(after))
    )
    ext = _EXT_RE.match(text, end) if maybe_ext else None
    if ext is not None:
        after_ext = text[ext.end() : ext.end() + 1]
        if after_ext and _is_latin_letter(after_ext):
            ext = None
    if ext is None and first_after.isalpha() and _is_latin_letter(first_after):
        return []  # "4155550123abc": part of a code or a word
    if before_char.isalpha() and _is_latin_letter(before_char):
        word = _WORD_END_RE.search(text, max(0, start - 12), start)
        if word is None or not _GLUE_OK_RE.search(word.group(0)):
            return []
    if first_after == "%":
        return []
    words_from, words, left = start, _NO_WORDS, None
    if before_char not in "+\uff0b":
        anti, words_from, words, left = anti_cue_at(text, start)
        if anti:
            budget[0] -= 1
            return []  # "order #4155550123": an identifier, not worth a parse
    groups = [_Group(*m.span()) for m in _GROUP_RE.finditer(run)]
    before = text[start - 4 if start > 4 else 0 : start]
    marked = _block_decoys(
        run, groups, before if before.isascii() else fold(before), after if after.isascii() else fold(after)
    )
    if marked == len(groups):
        return []  # every group is something else
    reader = _RunReader(text, start, run, groups, region, marked > 0, words_from, words, left)
    results = reader.interpret()
    if not results:
        budget[0] -= 1
    if ext is not None and results and results[-1].end == end:
        last = results[-1]
        results[-1] = _Found(
            last.start,
            ext.end(),
            last.parsed,
            last.formatted,
            last.international,
            True,
            last.blocked_nearby,
            last.left,
        )
    return results
