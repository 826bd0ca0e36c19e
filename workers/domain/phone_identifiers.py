"""What digits are when they are not a phone, told by their shape alone (labels are in phone_cue_words).

Two parts of the identifier grammar:

* :func:`code_word` -- letters glued to the digits make a *code* ("ORD-2025-449810", "DE123456789",
  "v2.13.4", "1Z999AA10123456784", "475-492-7798-INV"), unless the letters are a word people run into
  a number by hurry: the end of a cue ("reach me at7185550123", "Nummer0151/...") or a courtesy
  word after it ("312 555 0177pls");
* :func:`block_decoys` -- what inside a run of digits is something else: the shapes of
  :data:`DECOY_SHAPES` (dates and date ranges, year ranges, fractions, card numbers in groups, CPF and
  CNPJ, ZIP+4, IP addresses, version numbers, decimals), all read in one scan; times, amounts and
  quantities told by the words around the run; card numbers by their check digit. The groups of
  digits they cover are never read as (part of) a phone. :func:`is_date` tells the usual decoy, a run
  that is a date and nothing else, before any other work.

To teach extraction a new kind of decoy written without a label, add its shape to
:data:`DECOY_SHAPES`; a decoy that a word names ("IBAN", "Kundennummer") belongs in the tables of
:mod:`workers.domain.phone_cue_words`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

# --- codes: letters glued to digits -----------------------------------------------------------------------

# Characters that join the letters of a code to its digits ("ORD-2025", "REF#7792", "v2.13", "AB_12");
# not '+' or '(', which open a phone number ("abc+14156667777", "Handy+43 664...").
_CODE_JOINERS: Final = "-_/#."
_EXTENSION_RE: Final = re.compile(r"(?:ext|extn|extension|x|ramal|anexo|durchwahl|dw|poste|interno)$")


def _latin(ch: str) -> bool:
    """A letter of a Latin script: codes are written in them; Japanese or Arabic text runs into
    numbers without a space as a matter of course ("電話番号は０９０...")."""
    return ch.isalpha() and (ch < "\u0250" or "\u1e00" <= ch <= "\u1eff")


def _letters_before(text: str, at: int) -> tuple[int, int] | None:
    """Span of the letters that touch ``text[at]`` from the left, directly or through one joiner."""
    end = at
    if end and text[end - 1] in _CODE_JOINERS:
        end -= 1
    start = end
    while start and _latin(text[start - 1]):
        start -= 1
    return (start, end) if start < end else None


def _letters_after(text: str, at: int) -> tuple[int, int] | None:
    """Span of the letters that touch ``text[at - 1]`` from the right, directly or through one joiner."""
    start = at
    if start + 1 < len(text) and text[start] in "-_/" and _latin(text[start + 1]):
        start += 1
    end = start
    while end < len(text) and _latin(text[end]):
        end += 1
    return (start, end) if start < end else None


def code_word(
    text: str,
    start: int,
    end: int,
    cue_ends_at: Callable[[int], bool],
    glue: frozenset[str],
    courtesy: frozenset[str],
) -> str | None:
    """The letters that make the digits ``text[start:end]`` part of a code, or None.

    Letters before the digits are a word typed without a space when they are a ``glue`` word ("at",
    "al", "unter") or when ``cue_ends_at(i)`` says a cue or label ends at ``text[:i]`` ("Nummer",
    "cel"); ``courtesy`` are the words people type straight after a number ("pls", "gracias").
    """
    before = _letters_before(text, start)
    if before is not None and text[before[0] : before[1]].lower() not in glue and not cue_ends_at(before[1]):
        return text[before[0] : start]
    after = _letters_after(text, end)
    if after is not None:
        word = text[after[0] : after[1]].lower()
        # A word joined by a dash or slash is a code's suffix ("520-908-6867-AB") even when it reads
        # like a courtesy; only one typed straight after the digits is a hurried "pls".
        hurried = after[0] == end and word in courtesy
        if not hurried and not _EXTENSION_RE.match(word):
            return text[end : after[1]]
    return None


# --- decoy shapes inside a run ----------------------------------------------------------------------------


@dataclass(slots=True)
class Group:
    """A group of digits of a run (offsets in the run), and what it was found to be, if not a phone."""

    start: int
    end: int
    blocked: str = ""


class RunView(NamedTuple):
    """What the checks read: the run (ASCII digits and separators), its groups, and a few characters of
    text before and after it (folded to ASCII)."""

    run: str
    groups: list[Group]
    before: str
    after: str


Span = tuple[int, int, str]  # start, end (in the run) and the kind of decoy

#: Decoys known by their shape inside a run, by kind: the separators one of which the shape needs in
#: the run, and its pattern. Shapes are tried in this order where two start at one place, all in one
#: scan of the run (:func:`block_decoys`); a kind in :data:`_VALID` must also pass its test. To teach
#: extraction a new shape, add it here.
DECOY_SHAPES: Final = {
    "ip_address": (".", r"\A[0-9]{1,3}(?:\.[0-9]{1,3}){3}\Z"),  # the whole run; see _ip_ok
    # Four or more dotted parts opening with one digit ("4.15.555.0123"; "1.800..." is a phone's
    # trunk 1), or a year and a month ("2025.10.5608197"), opening the run.
    "version": (".", r"\A(?:[2-9](?:\.[0-9]+){3,}|(?:19|20)[0-9]{2}\.(?:0?[1-9]|1[0-2])\.[0-9]+)"),
    "zip4": ("-", r"\A[0-9]{5}-[0-9]{4}(?![0-9-])"),  # opening the run; "(11) 98765-4321" is a phone
    # A date without separators opening the run, before a space ("20250314 0930").
    "compact_date": (" ", r"\A(?:19|20)[0-9]{2}[-/.]?(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?= )"),
    # A card number in groups of four ("4111 1111 1111 1111").
    "card": (" -", r"(?<![0-9])[0-9]{4}(?P<cs>[ -])[0-9]{4}(?P=cs)[0-9]{4}(?P=cs)[0-9]{1,7}(?![0-9])"),
    "cpf": (".", r"(?<![0-9])[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}(?![0-9])"),  # Brazil's CPF
    "cnpj": (".", r"(?<![0-9])[0-9]{2}\.[0-9]{3}\.[0-9]{3}/[0-9]{4}-[0-9]{2}(?![0-9])"),  # Brazil's CNPJ
    # Day, month and year, either way round ("12/05/2024", "2024-05-12", "03.05.2025"); see _date_ok.
    "date": (
        "./-",
        r"(?<![0-9])(?:(?P<a>[0-9]{1,2})(?P<s1>[./-])(?P<b>[0-9]{1,2})(?P=s1)(?:19|20)?[0-9]{2}"
        r"|(?:19|20)[0-9]{2}(?P<s2>[./-])(?P<m2>[0-9]{1,2})(?P=s2)(?P<d2>[0-9]{1,2}))(?![0-9])",
    ),
    # Two years ("1979-2011", "2019 / 2023").
    "year_range": ("-/\u2013", r"(?<![0-9])(?:19|20)[0-9]{2}\s?[-\u2013/]\s?(?:19|20)[0-9]{2}(?![0-9])"),
    "fraction": ("/", r"(?<![0-9/])[0-9]{1,2}/[0-9]{1,2}(?![0-9/])"),  # "3/4", "12/05"
    "decimal": (".,", r"(?<![0-9.,])[0-9]{1,4}[.,][0-9]{1,2}(?![0-9])"),  # "12.1 - 23.71"; see _decimal_ok
}
_SEPARATORS: Final = frozenset("".join(separators for separators, _ in DECOY_SHAPES.values()))


class _Shapes(NamedTuple):
    """The shapes that may be in runs holding some separators: one pattern for all of them, and where a
    shape's test rejects its match, one for the shapes after it in the table (they may match there)."""

    first: re.Pattern[str] | None
    later: dict[str, re.Pattern[str]]


def _alternation(kinds: list[str]) -> re.Pattern[str] | None:
    if not kinds:
        return None
    return re.compile("|".join(f"(?P<{kind}>{DECOY_SHAPES[kind][1]})" for kind in kinds))


@functools.cache
def _shapes_for(separators: frozenset[str]) -> _Shapes:
    """The shapes a run holding ``separators`` may contain (a run of plain digits and spaces is spared
    the patterns of dates and decimals)."""
    kinds = [kind for kind, (needs, _) in DECOY_SHAPES.items() if not separators.isdisjoint(needs)]
    later = {kind: pattern for i, kind in enumerate(kinds) if (pattern := _alternation(kinds[i + 1 :]))}
    return _Shapes(_alternation(kinds), later)


# A run that is a date and nothing else, or two ("11/14/2025", "2024-10-16", "03.05.2025-07.05.2025"),
# told by one pattern before any other work; DECOY_SHAPES blocks every such run whole too (a test of
# this module checks it).
_WHOLE_DATE_RE: Final = re.compile(
    r"(?:(?:0?[1-9]|[12][0-9]|3[01])(?P<s1>[./-])(?:0?[1-9]|1[0-2])(?P=s1)(?:19|20)[0-9]{2}"
    r"|(?:0?[1-9]|1[0-2])(?P<s2>[./-])(?:0?[1-9]|[12][0-9]|3[01])(?P=s2)(?:19|20)[0-9]{2}"
    r"|(?:19|20)[0-9]{2}(?P<s3>[./-])(?:0?[1-9]|1[0-2])(?P=s3)(?:0?[1-9]|[12][0-9]|3[01]))"
    r"(?:(?P<to>\s?[-\u2013]\s?)(?:(?:0?[1-9]|[12][0-9]|3[01])(?P<s4>[./-])(?:0?[1-9]|1[0-2])(?P=s4)(?:19|20)[0-9]{2}"
    r"|(?:19|20)[0-9]{2}(?P<s5>[./-])(?:0?[1-9]|1[0-2])(?P=s5)(?:0?[1-9]|[12][0-9]|3[01])))?"
)


def is_date(text: str, start: int, end: int) -> bool:
    """Whether the run ``text[start:end]`` is a date (or two) and nothing else. Two dates joined by
    the dash that separates their own parts ("1-1-1950-1-1-1950") are left to the shapes, which read
    such a sequence whole."""
    match = _WHOLE_DATE_RE.fullmatch(text, start, end)
    if match is None:
        return False
    own = match.group("s1") or match.group("s2") or match.group("s3")
    return match.group("to") is None or not (own == "-" and match.group("to") == "-")


def _plausible_date(day_or_month: str, month_or_day: str) -> bool:
    a, b = int(day_or_month), int(month_or_day)
    return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)


def _date_ok(match: re.Match[str], run: str) -> bool:
    """A plausible day and month, not inside a longer sequence with the same separator: "06-12-34-56-78"
    is a phone, "03.05.2025-07.05.2025" two dates."""
    lo, hi = match.span()
    sep = match.group("s1") or match.group("s2")
    if (lo >= 2 and run[lo - 2].isdigit() and run[lo - 1] == sep) or (
        run[hi : hi + 1] == sep and run[hi + 1 : hi + 2].isdigit()
    ):
        return False
    if match.group("a") is not None:
        return _plausible_date(match.group("a"), match.group("b"))
    return _plausible_date(match.group("d2"), match.group("m2"))


def _ip_ok(match: re.Match[str], run: str) -> bool:
    return all(int(part) <= 255 for part in run.split("."))


def _decimal_ok(match: re.Match[str], run: str) -> bool:
    """A decimal in a list of them ("12.1 - 23.71 - 23.45"); "06.12.34" and "7493.524" are phone groups."""
    left, right = run[: match.start()], run[match.end() :]
    return (not left or left[-2:] in {"- ", "/ "}) and (not right or right[:2] in {" -", " /"})


_VALID: Final = {"date": _date_ok, "ip_address": _ip_ok, "decimal": _decimal_ok}


def _shapes(run: str, shapes: _Shapes | None = None) -> list[Span]:
    """Every decoy shape in the run, in one scan (of the shapes its separators allow, unless told)."""
    shapes = shapes or _shapes_for(_SEPARATORS.intersection(run))
    spans: list[Span] = []
    at = 0
    while shapes.first is not None and (found := shapes.first.search(run, at)) is not None:
        match = _valid_at(found, run, shapes)
        if match is None:
            at = found.start() + 1
            continue
        spans.append((match.start(), match.end(), match.lastgroup or ""))
        at = match.end()
    return spans


def _valid_at(match: re.Match[str], run: str, shapes: _Shapes) -> re.Match[str] | None:
    """The first shape at the place of ``match`` that passes its test: ``match`` itself, or one of the
    shapes after it in the table."""
    while True:
        kind = match.lastgroup or ""
        test = _VALID.get(kind)
        if test is None or test(match, run):
            return match
        later = shapes.later.get(kind)
        found = later.match(run, match.start()) if later is not None else None
        if found is None:
            return None
        match = found


# A time ("15:30", "14h30", " pm", " Uhr") or an amount (" USD", "%", " €") right after the digits.
_AFTER_RE: Final = re.compile(
    r"(?:(?P<time>:[0-9]{2}|[hH][0-9]{2}|\s?(?:am|pm|a\.m\.|p\.m\.|uhr|hrs|h)\b)"
    r"|(?P<money>\s?(?:[$\u20ac\u00a3\u00a5\u20b9%]|usd|eur|gbp|mxn|brl|reais|euros?|dollars?|bucks|pesos"
    r"|z\u0142|kr|chf)(?![a-z])))",
    re.IGNORECASE,
)
_CURRENCY_BEFORE_RE: Final = re.compile(
    r"(?:[$\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u20ba]|R\$|US\$|USD|EUR|GBP|MXN|BRL|CHF|Rs\.?)\s?$"
)
_PRICE_HEAD_RE: Final = re.compile(r"[0-9]{1,3}(?:[,.][0-9]{3})*(?:[.,][0-9]{1,2})?(?![0-9])")
_PRICE_TAIL_RE: Final = re.compile(r"(?<![0-9])[0-9]{1,3}(?:[,.][0-9]{3})*(?:[.,][0-9]{1,2})?$")
# A quantity after the digits ("15 min", "2 people", "3 kg"): its number is no phone group.
_UNIT_AFTER_RE: Final = re.compile(
    r"\s?(?:min|mins|minutes?|minutos?|minuten|hours?|hrs|horas?|heures?|stunden?|days?|d[ií]as|jours?|tage"
    r"|people|persons?|personas?|pessoas?|personnes?|personen|pax|guests?|invitados|convidados|g[äa]ste"
    r"|kids|adults|kg|km|miles|lbs?|items?|units?|pcs|st[üu]ck)(?![^\W\d_])",
    re.IGNORECASE,
)


def _context(view: RunView) -> list[Span]:
    """Decoys told by the words around the run: a time or an amount right after it ("15:30", "9 pm",
    "45 EUR", "20%") or a currency right before it ("$1,250.00", "R$ 1.250,00"), and a small quantity
    after it ("... 15 min", "021 291 01 90 2 people")."""
    spans: list[Span] = []
    run, groups, after, before = view.run, view.groups, view.after, view.before
    last = groups[-1]
    follows = _AFTER_RE.match(after) if after else None
    if follows is not None and follows.lastgroup == "time" and last.end - last.start <= 2:
        # An hour has one or two digits: "0151 23456789 am besten" is a phone and German.
        spans.append((last.start, last.end, "time"))
    if before and _CURRENCY_BEFORE_RE.search(before):
        price = _PRICE_HEAD_RE.match(run)
        if price is not None:
            spans.append((0, price.end(), "price"))
    if follows is not None and follows.lastgroup == "money":
        why = "percent" if "%" in after[:2] else "price"
        price = _PRICE_TAIL_RE.search(run)
        if price is not None:
            spans.append((price.start(), len(run), why))
        elif not after[:1].isspace():  # "415-666-7777$": a sign glued to the digits makes them money
            spans.append((last.start, last.end, why))
    if last.end - last.start <= 3 and run[last.start - 1 : last.start] == " " and _UNIT_AFTER_RE.match(after):
        spans.append((last.start, last.end, "quantity"))
    return spans


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        value = ord(ch) - 48
        if i % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card_number(view: RunView) -> bool:
    """A card number written any way: 15 or 16 digits not blocked yet, issuer digit 2-6, Luhn check."""
    digits = "".join(view.run[g.start : g.end] for g in view.groups if not g.blocked)
    return (
        len(digits) in (15, 16)
        and digits[0] in "23456"
        and _luhn(digits)
        and not view.before.rstrip().endswith("+")
    )


def block_decoys(view: RunView) -> int:
    """Mark the groups of the run that belong to a decoy (:data:`DECOY_SHAPES`, then the words around
    the run, then card numbers); how many groups are marked."""
    marked = 0
    for start, end, why in _shapes(view.run) + _context(view):
        for group in view.groups:
            if group.start < end and group.end > start and not group.blocked:
                group.blocked = why
                marked += 1
    if len(view.run) >= 15 and marked < len(view.groups) and _card_number(view):
        for group in view.groups:
            group.blocked = group.blocked or "card"
        marked = len(view.groups)
    return marked
