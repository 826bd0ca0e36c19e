"""Find phone numbers in chat text, with the evidence for each and whose number it is.

How one message is read, cheapest step first (most chat has no digit and stops at step 1):

1. **Prefilter**: text without a digit has no phone.
2. **Runs of digits** (:mod:`workers.domain.phone_runs`): at least seven digits with at most three
   separator characters between neighbours. A list's bullet ("1) ", "2. ") at the start of a line is
   cut off; Brazil's carrier placeholder ("0xx62 3212-3456") is taken in.
3. **Codes**: letters glued to a run make it part of a code ("ORD-2025-449810", "DE123456789"), unless
   they end a cue ("reach me at7185550123", "Nummer0151/...") or are a courtesy word ("0177pls"):
   :func:`workers.domain.phone_identifiers.code_word`.
4. **The label of each number** (:mod:`workers.domain.phone_cues`), read in its own *window*: the text
   before it back to the start of its clause or to the previous value (any other group of digits),
   and the text after it. A label binds to the number it is next to, never to the whole message, so a
   decoy elsewhere never suppresses a cued phone ("call me at 415-555-0134, my zip is 94110"). An
   identifier label ("order #", "NPI", "Kundennummer") next to the digits means they are no phone,
   whatever cue comes earlier ("call me about order 2024-555-0101"); only a list separator or a
   number written as a phone after a space ends its value ("order 12345 / 415...", "order 12345
   415-555-0134"). A comma between the name and the digits ends the name, not the value ("about my
   order, 415-555-0134": a number beside an identifier).
5. **Valid numbers in the run** (:class:`workers.domain.phone_runs.Run`): decoy shapes (dates,
   prices, IP addresses, versions: :data:`workers.domain.phone_identifiers.DECOY_SHAPES`) are blocked,
   and what libphonenumber's metadata calls valid, written as its country writes it, is a number.
6. **Owner and confidence** (:func:`_attribute`), from the label and the message (table below).

Where to teach it something: a labelled decoy or a cue word goes in the tables of
:mod:`workers.domain.phone_cue_words` (per language); a decoy known by its shape is a check in
:data:`workers.domain.phone_identifiers.DECOY_SHAPES`; a separator or layout of numbers is in
:mod:`workers.domain.phone_runs`.

Confidence is the probability that the number identifies the *sender* of an inbound message:

* 0.95: a self cue ("my number is", "call/text me at", "mi número es", "meine Nummer ist"), owner SENDER;
  0.9: a phone label ("Cell:", "Tel.", "WhatsApp") or a list continued from such a cue;
* 0.7 / 0.6: a bare number alone in an inbound message (punctuated or international / plain digits),
  owner SENDER, when nothing in the message looks like an identifier;
* 0.5: a bare number in a message that also holds something identifier-like (an identifier's name, a
  code of letters and digits, another long group of digits): owner SENDER, below the link threshold
  (0.6), so such a message never links a thread by itself;
* 0.45: one of several uncued numbers, owner UNKNOWN; 0.3: an international number named as an
  identifier, owner UNKNOWN;
* 0.15: someone else's number ("my wife's number", "call my assistant at", "... (my son)"), OTHER_PERSON;
* <= 0.1: owner BUSINESS, never identifying: the business's own numbers and every number it sends.

Work is bounded: text past :data:`MAX_TEXT_CHARS` is not read, at most :data:`MAX_RUNS` runs are
examined, and reading stops after ``max_tries`` runs that held no number.

Speed comes from the image's build, not from tricks in the code: these modules are compiled to C with
mypyc there (setup.py; ``make bench`` checks the compiled build against them), so they stay plain,
strictly typed Python.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from typing import Final, NamedTuple

from workers.domain.phone_cues import (
    CONTACT_VERBS,
    COURTESY_WORDS,
    GLUE_WORDS,
    LEFT_WINDOW,
    RIGHT_WINDOW,
    CueReader,
    Kind,
    Label,
    Message,
    reader_for,
)
from workers.domain.phone_identifiers import code_word, is_date
from workers.domain.phone_normalize import canonical
from workers.domain.phone_runs import RUN_RE, Found, Run, after_value, next_item

MAX_TEXT_CHARS: Final = 10_000
DEFAULT_MAX_TRIES: Final = 64
MAX_RUNS: Final = 1_000


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
    raw: str = ""


def extract(
    text: str,
    region: str | None,
    context: ExtractionContext = ExtractionContext(),
    *,
    max_tries: int = DEFAULT_MAX_TRIES,
) -> list[Candidate]:
    """Phone numbers in ``text``, in order, each with its span, E.164, confidence, evidence and owner.

    ``region`` is the default numbering plan for numbers written without a country code (the
    business's or channel's configured country) and says which language's cue words are read first;
    ``None`` finds only numbers with a ``+``. ``max_tries`` bounds the runs read that hold no number
    (as ``PhoneNumberMatcher``'s does: found numbers do not count).
    """
    text = text[:MAX_TEXT_CHARS]
    if not _DIGIT_RE.search(text):  # step 1
        return []
    runs = _runs(text)  # step 2
    if not runs:
        return []
    message = Message.of(text)  # lowercased once, for every step that reads words
    reading = _Reading(message, region.upper() if region else None, context)
    tries = max_tries
    for start, end in runs:
        if tries <= 0:
            break
        if not reading.read(start, end):  # steps 3 to 5
            tries -= 1
    return reading.candidates()  # step 6


# --- step 2: runs -----------------------------------------------------------------------------------------

_DIGIT_RE: Final = re.compile(r"\d")
# A list's bullet opening a line ("1) ", "2. "), which the run pattern would take in.
_BULLET_RE: Final = re.compile(r"\d{1,2}[.)]\s+(?=\d|[+(])")
_LINE_START_RE: Final = re.compile(r"(?:^|\n)[ \t*\u2022\-]*\Z")
_BULLET_MARKS: Final = frozenset(".)")
_MINUTES_RE: Final = re.compile(r"\d{2}(?:\s|[.,\-\u2013](?=\s))+(?=[\d+(])")
_CARRIER_XX: Final = ("0xx", "0xx ")
_XX_RE: Final = re.compile("xx", re.IGNORECASE)


def _runs(text: str) -> list[tuple[int, int]]:
    """Spans of the runs of digits in ``text`` (at most :data:`MAX_RUNS`)."""
    spans: list[tuple[int, int]] = []
    placeholders = _XX_RE.search(text) is not None  # Brazil's carrier placeholder ("0xx62 ...")
    for match in RUN_RE.finditer(text):
        start, end = match.span()
        if start >= 2 and text[start - 1] in ":hH" and text[start - 2].isdigit():
            # The run opens with the minutes of a time ("20:30 3128047945", "20h30 01 23 93 36 15").
            minutes = _MINUTES_RE.match(text, start, end)
            if minutes is None:
                continue
            start = minutes.end()
        if text[start + 1 : start + 2] in _BULLET_MARKS or text[start + 2 : start + 3] in _BULLET_MARKS:
            bullet = _BULLET_RE.match(text, start, end)
            if bullet is not None and _LINE_START_RE.search(text, max(0, start - 8), start):
                start = bullet.end()
        if placeholders:
            before = text[max(0, start - 4) : start].lower()
            if before.endswith(_CARRIER_XX):  # "0xx62 3212-3456", "0xx 11 ..."
                start -= 3 if before.endswith("0xx") else 4
        spans.append((start, end))
        if len(spans) == MAX_RUNS:
            break
    return spans


# --- steps 3 to 5: one message ----------------------------------------------------------------------------


class _Number(NamedTuple):
    """A number found, with the label that binds to it (None: it has none) and where that came from."""

    found: Found
    label: Label | None
    inherited: bool  # the label is the previous number's, continued by a list ("A or B")


# What may join the items of a list of numbers, so that the first one's label goes for all ("A or B").
_LIST_JOIN_RE: Final = re.compile(
    r"[\s,;/&+(\-]*(?:(?:or|and|y|o|ou|e|et|oder|und|oppure|bzw\.?)(?![^\W\d_])[\s,;/&+(\-]*)?",
    re.IGNORECASE,
)


# Words people run into the digits after them that make no code: glue ("at7185550123", "es612...") and
# verbs of calling ("call4155550134").
_TOUCHING_WORDS: Final = GLUE_WORDS | CONTACT_VERBS

# A WhatsApp link to a chat: the digits after it are an international number without its '+'.
_WHATSAPP_LINK_RE: Final = re.compile(r"(?:wa\.me/|whatsapp\.com/send/?\?phone=)\Z", re.IGNORECASE)


def _after_whatsapp_link(text: str, at: int) -> bool:
    """Whether the digits at ``at`` follow a WhatsApp link ("wa.me/5511..."); a link ends in '/' or '=',
    so only digits after one of them are searched for it."""
    return at > 0 and text[at - 1] in "/=" and _WHATSAPP_LINK_RE.search(text, max(0, at - 32), at) is not None


def _shape(raw: str) -> str:
    """How a number is written, digits as 9: "415-555-0123" and "650-253-0000" have one shape."""
    return "".join("9" if ch.isdigit() else ch for ch in raw)


class _Reading:
    """The numbers of one message and their labels, read run by run."""

    def __init__(self, message: Message, region: str | None, context: ExtractionContext) -> None:
        self.text, self.region, self.context = message.text, region, context
        self.message = message
        self.cues: CueReader = reader_for(region)
        self.numbers: list[_Number] = []
        self.identifier_seen = False  # a code or an identifier label somewhere in the message
        self.taken = 0  # the end of the last label found after a value: it is that value's
        self.value_end = 0  # the end of the last run that held no number

    def read(self, start: int, end: int) -> bool:
        """Read one run; whether it held a number."""
        if is_date(self.text, start, end):  # the usual decoy, known by its shape alone
            self.value_end = end
            return False
        code = code_word(self.text, start, end, self._cue_ends_at, _TOUCHING_WORDS, COURTESY_WORDS)
        label = self._label_before(start) if code is None else None
        if label is not None and label.kind is Kind.IDENTIFIER and "," in self.text[label.end : start]:
            # "about my order, 415-555-0134": a comma ends the identifier's name, not its value. The
            # digits are read, unlabelled, as a number beside an identifier (never linked on their own).
            self.identifier_seen, label = True, None
        elif code is not None or (label is not None and label.kind is Kind.IDENTIFIER):
            # Step 3 or 4: the run opens with a code or a named identifier ("ORD-2025-449810",
            # "order # 4155550123"); another value may follow a list separator ("... / 415-555-0134"),
            # or a space, when all the digits after it make one number ("order 12345 415 555 0134").
            self.identifier_seen = True
            self.value_end = end
            run_text = self.text[start:end]
            if (rest := next_item(run_text)) is not None:
                return self.read(start + rest, end)
            return (rest := after_value(run_text)) is not None and self._read_numbers(
                start + rest, end, None, True
            )
        return self._read_numbers(start, end, label, False)

    def _read_numbers(self, start: int, end: int, label: Label | None, whole: bool) -> bool:
        """Step 5: the numbers of the run ``start:end`` (all its digits one number, when ``whole``), the
        first one labelled ``label``."""
        run = Run(self.text, self.message.low, start, end)
        link = _after_whatsapp_link(self.text, start)
        named = label is not None and label.kind is not Kind.IDENTIFIER
        found = [] if run.all_decoys else run.numbers(self.region, link, named)
        if not found and not named and not run.all_decoys and not whole:
            # A label after the digits may say they are a phone ("44 7911 123456 is my number").
            after = self._label_after(end)
            if after is not None and after.kind is not Kind.IDENTIFIER:
                found = run.numbers(self.region, link, True)
        if whole and not (len(found) == 1 and found[0].start <= start and found[0].end >= end):
            found = []
        for number in found:
            self._bind(number, label if number.start <= start else self._label_before(number.start))
        if not found:
            self.value_end = end  # a value no number came from: a label right after it is its own
        return bool(found)

    def _cue_ends_at(self, at: int) -> bool:
        """Whether a cue or phone label ends at ``text[:at]`` (with only glue after it): an identifier's
        name there makes the letters a code ("Referenz REF/2021/...")."""
        label = self.cues.next_to(self.message, self._floor(at), at)
        return label is not None and label.kind is not Kind.IDENTIFIER

    def _floor(self, at: int) -> int:
        """How far back a label of the number at ``at`` may be: :data:`LEFT_WINDOW` characters, and not
        before a label an earlier number took (the cue reader then stops at its clause start or the
        previous value)."""
        return max(0, at - LEFT_WINDOW, self.taken)

    def _label_before(self, at: int) -> Label | None:
        """The label of the number whose digits start at ``at``: the one right next to them, unless it
        only says "a phone" and an owner cue stands a little further back ("call me tomorrow on my
        cell 415...": "call me")."""
        if self.value_end > self.taken:
            # "88735307351 es mi número de socio / +52-200...": the label after the previous value (a run
            # that held no number) is that value's, not the next number's.
            after = self._label_after(self.value_end)
            self.taken = after.end if after is not None else self.value_end
        next_to, owner = self.cues.before(self.message, self._floor(at), at)
        if next_to is None or next_to.kind is Kind.PHONE:
            return owner or next_to
        return next_to

    def _label_after(self, at: int) -> Label | None:
        """The label right after the value that ends at ``at`` (on its line)."""
        end = min(len(self.text), at + RIGHT_WINDOW)
        line_end = self.text.find("\n", at, end)
        return self.cues.after(self.message, at, end if line_end < 0 else line_end)

    def _bind(self, found: Found, before: Label | None) -> None:
        """Record ``found`` with the label that names it: the one right before it, or else one right
        after it; with none, a list's first number's label ("call me at A or B")."""
        label = before
        if label is None or (label.kind is Kind.PHONE and self.context.direction == "in"):
            after = self._label_after(found.end)
            if after is not None:
                label = after
                self.taken = after.end
        inherited = False
        previous = self.numbers[-1] if self.numbers else None
        if label is None and previous is not None and previous.label is not None:
            gap = self.text[previous.found.end : found.start]
            joined = _LIST_JOIN_RE.fullmatch(gap) is not None and "\n\n" not in gap
            same_shape = _shape(self.text[previous.found.start : previous.found.end]) == _shape(
                self.text[found.start : found.end]
            )
            if joined and (previous.label.kind is not Kind.IDENTIFIER or same_shape):
                label, inherited = previous.label, True
        if label is not None and label.kind is Kind.IDENTIFIER:
            self.identifier_seen = True
            if not found.international:
                return
        self.numbers.append(_Number(found, label, inherited))

    # --- step 6 ---------------------------------------------------------------------------------------------

    def candidates(self) -> list[Candidate]:
        """Step 6: the owner, confidence and evidence of every number found."""
        if not self.numbers:
            return []
        keys = _business_keys(self.context.business_numbers)
        mine = [_is_business(n.found.e164, keys) for n in self.numbers]
        uncued = 0
        for number, own in zip(self.numbers, mine, strict=True):
            uncued += number.label is None and not own
        direction = self.context.direction
        # A lone bare number is the sender's only if nothing in the message looks like an identifier.
        near = uncued == 1 and direction == "in" and self._identifier_nearby()
        return [
            _candidate(self.text, number, *_attribute(number, direction, own, uncued, near))
            for number, own in zip(self.numbers, mine, strict=True)
        ]

    def _identifier_nearby(self) -> bool:
        """Whether the message holds an identifier's value besides its numbers: a code or a named
        identifier met on the way, or another group of four digits or more (between the numbers)."""
        if self.identifier_seen:
            return True
        at = 0
        for number in self.numbers:
            if _LONG_GROUP_RE.search(self.text, at, number.found.start):
                return True
            at = number.found.end
        return _LONG_GROUP_RE.search(self.text, at) is not None


_LONG_GROUP_RE: Final = re.compile(r"\d{4,}")


@functools.lru_cache(maxsize=4096)
def _business_keys(numbers: frozenset[str]) -> frozenset[str]:
    """The canonical forms of a business's numbers (the same for every message of the business)."""
    return frozenset(canonical(n) for n in numbers)


# The only calling codes whose numbers canonical() may rewrite (Brazil, Argentina, Mexico).
_REWRITTEN_CODES: Final = ("+55", "+54", "+52")


def _is_business(e164: str, keys: frozenset[str]) -> bool:
    """``canonical(e164) in keys`` (``keys`` are canonical): canonical() leaves every number of other
    calling codes as it is, so only those need it called (a test checks the two agree)."""
    return e164 in keys or (e164.startswith(_REWRITTEN_CODES) and canonical(e164) in keys)


def _attribute(
    number: _Number, direction: str, business: bool, uncued: int, identifier_nearby: bool
) -> tuple[Owner, float, str]:
    """Owner, confidence and cue evidence of one number (see the module docstring's table)."""
    label, found = number.label, number.found
    if business:
        return Owner.BUSINESS, 0.0, "business_number"
    if direction == "out":
        return Owner.BUSINESS, 0.1, "direction:out"
    if label is not None:
        words = label.text.lower()
        if label.kind is Kind.IDENTIFIER:  # only an international number survives an identifier label
            return Owner.UNKNOWN, 0.3, f"identifier_label:{words}"
        cue = "cue:" + label.kind + ":" + words
        if label.kind is Kind.OTHER:
            return Owner.OTHER_PERSON, 0.15, cue
        if label.kind is Kind.SELF:
            return Owner.SENDER, 0.9 if number.inherited else 0.95, cue
        return Owner.SENDER, 0.9, cue
    if uncued > 1:
        return Owner.UNKNOWN, 0.45, "several_uncued_numbers"
    if identifier_nearby:
        return Owner.SENDER, 0.5, "bare_number_near_identifier"
    return Owner.SENDER, 0.7 if found.formatted or found.international else 0.6, "bare_number"


_FORMS: Final = {  # (international, formatted) -> how the number was written, as evidence
    (True, True): "format:international",
    (True, False): "format:international",
    (False, True): "format:punctuated",
    (False, False): "format:digits",
}
_REGION_EVIDENCE: Final = {source: f"region:{source}" for source in ("region", "plus", "country_hint")}


def _candidate(text: str, number: _Number, owner: Owner, confidence: float, cue: str) -> Candidate:
    found = number.found
    form = _FORMS[found.international, found.formatted]
    evidence: tuple[str, ...] = (form, _REGION_EVIDENCE[found.region_source], cue)
    if number.inherited:
        evidence += ("list",)
    if found.extension:
        evidence += ("extension",)
    if found.blocked:
        evidence += tuple(f"skipped:{why}" for why in found.blocked)
    return Candidate(
        found.e164, found.start, found.end, confidence, evidence, owner, text[found.start : found.end]
    )
