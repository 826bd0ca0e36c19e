"""The words around a number that say whose it is, or that it is no phone at all.

Read only the few dozen characters next to a candidate number. Three kinds of evidence:

* self cues ("my number is", "call me at", "cell:") say the sender gives their own number;
* other-person cues ("my wife's number", "the venue's number", "call my assistant at") say it is
  someone else's;
* anti-cues ("order #", "booking ref", "tracking number", "CPF") say the digits are an identifier
  of something else, so they are not a phone at all.

Patterns cover English, Spanish, Portuguese, French, German and Italian chat. The nearest, tightest
cue wins: an anti-cue must sit right before the digits ("order number is 415..."), and an
other-person cue beats a self cue ("my wife's number" contains "my ... number").
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

#: How far left and right of a candidate the cue patterns look.
LEFT_WINDOW: Final = 64
RIGHT_WINDOW: Final = 40
#: An anti-cue must sit right before the digits ("order number is 4155550123").
ANTI_WINDOW: Final = 40
#: Self cues ("my number is", "call me at") sit close to the number.
SELF_WINDOW: Final = 48

_NUMBER_WORDS: Final = (
    r"(?:phone|cell|cellphone|cel|mobile|mob|number|num|no\.?|nr\.?|\#|digits|line|contact|tel|telephone"
    r"|whats ?app|wa|sms|n[uú]mero|numero|celular|m[oó]vil|tel[eé]fono|telefone|zap|zapzap|whats"
    r"|num[eé]ro|portable|t[eé]l[eé]phone|handy|nummer|handynummer|telefonnummer|mobilnummer"
    r"|cellulare|telefono)"
)

# Someone other than the sender: relatives, staff, third parties, venues.
_RELATION: Final = (
    r"(?:wife|husband|hubby|partner|spouse|fianc[eé]e?|girlfriend|boyfriend|gf|bf|mom|mum|mother|mama"
    r"|dad|father|papa|son|daughter|kid|brother|sister|bro|sis|friend|buddy|boss|manager|assistant"
    r"|secretary|colleague|coworker|co-worker|cousin|aunt|uncle|grandma|grandpa|nanny|neighbou?r"
    r"|roommate|planner|coordinator|driver|chef|caterer|florist|dj|photographer|venue|hotel|restaurant"
    r"|bride|groom|guest|sponsor|landlord|agent|receptionist|front desk"
    r"|esposa|esposo|marido|mujer|novia|novio|mam[aá]|pap[aá]|hij[oa]|herman[oa]|amig[oa]|jefe|jefa"
    r"|mulher|m[aã]e|pai|filh[oa]|irm[aã]o?|namorad[oa]|chefe|femme|mari|m[eè]re|p[eè]re|fils|fille"
    r"|fr[eè]re|s[oœ]ur|copine|copain|frau|mann|mutter|vater|sohn|tochter|bruder|schwester|freundin"
    r"|freund|chef|moglie|marito|madre|padre|figli[oa]|fratello|sorella)"
)

_SELF_PATTERNS: Final = (
    # "my number is", "my cell:", "mi número es", "meu celular", "mon portable", "meine Handynummer"
    rf"\b(?:my|mi|mis|meu|minha|mon|ma|mein|meine|meiner|il mio|mio|la mia|our|nuestro|nosso)\s+"
    rf"(?:(?:new|personal|own|direct|best|private|mobile|cell|work|contact|nuevo|novo|nouveau|neue)\s+)?"
    rf"{_NUMBER_WORDS}",
    # "call me", "text me at", "reach me", "contact me", "whatsapp me", "hit me up"
    r"\b(?:call|text|txt|reach|contact|ring|phone|message|msg|sms|whats ?app|wa|hit|get|buzz)\s+(?:me|us)\b",
    r"\b(?:i'?m|i am|we'?re|we are)\s+(?:at|on|reachable at|available at)\b",
    r"\b(?:mine|el m[ií]o|la m[ií]a|o meu|a minha|le mien|la mienne|meine ist|il mio)\b",
    r"\b(?:me\s+(?:ligue|liga|ligar|chama|manda)|ll[aá]m[ae]me|ll[aá]menos|escr[ií]beme|m[aá]ndame"
    r"|marca(?:me)?|appel(?:ez|le)[- ]moi|rappel(?:ez|le)[- ]moi|ruf(?:t|en sie)? mich|erreichbar"
    r"|chiamami|contattami|scrivimi)\b",
    r"\b(?:can|you can|u can|you may|please)\s+(?:call|text|reach|contact|whatsapp)\b",
    r"\b(?:contact|callback|call back|call-back|reach|best|contact info|contact details)"
    r"\s*(?:number|no\.?|#|:)",
)

# Labels in a form or signature ("Cell: 415...", "Tel.", "WhatsApp:"): the sender's, unless other cues.
_LABEL_PATTERN: Final = (
    r"(?:^|[\s(\[,;])(?:phone|ph|cell|cellphone|mobile|mob|tel|tele|telephone|whats ?app|wa|contact|sms"
    r"|celular|cel|m[oó]vil|tel[eé]fono|telefone|fone|zap|portable|t[eé]l[eé]?phone|handy|mobil|telefon"
    r"|cellulare|telefono)\s*(?:\#|no\.?|nr\.?|number|n[uú]mero|nummer)?\s*[:.=\-]?\s*$"
)

_OTHER_PATTERNS: Final = (
    # "my wife's number", "my wife's cell is", "her number", "the venue's phone"
    rf"\b{_RELATION}(?:'s|\u2019s|s'|s)?\s+(?:(?:new|personal|direct|work|cell|mobile)\s+)?{_NUMBER_WORDS}",
    # "call my assistant at", "text my wife on", "reach our planner at", "contact the venue at"
    rf"\b(?:call|text|reach|contact|ring|ask|try|message|whatsapp)\s+(?:my|our|the|his|her|their)\s+"
    rf"(?:\w+\s+)?{_RELATION}\b",
    # "his number", "her cell", "their phone", "his wife's number"
    rf"\b(?:his|her|their|su|sus|seu|sua|dele|dela|son|sa|leur|sein|seine|ihr|ihre)\s+"
    rf"(?:(?:new|personal|direct|work|own)\s+)?{_NUMBER_WORDS}",
    # "call him at", "text her", "reach them"
    r"\b(?:call|text|reach|contact|ring|message)\s+(?:him|her|them)\b",
    # "de mi esposa", "da minha mãe", "de ma femme", "meiner Frau"
    rf"\b(?:de|da|do|del)\s+(?:mi|minha|meu|ma|mon)\s+{_RELATION}\b",
    rf"\b(?:my|mi|minha|meu|ma|mon|mein|meine|meiner|our)\s+{_RELATION}\b",
    rf"\bthe\s+{_RELATION}(?:'s|\u2019s)?\b",
    r"\b(?:not mine|isn'?t mine|not my number|no es m[ií]o|n[aã]o [eé] meu)\b",
)

# Identifiers of things that are not phones. Must end right before the digits.
_ANTI_WORDS: Final = (
    r"(?:order|orders|booking|confirmation|conf|confirm|reservation|res|ref|reference|tracking|track"
    r"|shipment|parcel|package|waybill|awb|invoice|inv|receipt|ticket|case|account|acct|acc|member"
    r"|membership|loyalty|rewards|policy|claim|transaction|txn|trans|serial|model|sku|item|part|po|pnr"
    r"|voucher|gift ?card|card|visa|mastercard|amex|iban|swift|routing|aba|zip|zipcode|postal|postcode"
    r"|pin|otp|code|coupon|promo|ssn|sin|ein|tax|vat|license|licence|plate|vin|room|table|seat"
    r"|flight|gate|unit|suite|apt|lot|batch|job|quote|estimate|folio|cust|customer"
    r"|pedido|orden|reserva|reservaci[oó]n|confirmaci[oó]n|factura|recibo|c[oó]digo|rastreo|rastreio"
    r"|gu[ií]a|cpf|cnpj|cep|rfc|curp|dni|nie|nif|cuit|cuil|rut|nota fiscal|boleto|protocolo"
    r"|commande|r[eé]servation|facture|colis|suivi|siret|siren|bestellung|bestellnummer|buchung"
    r"|buchungsnummer|auftrag|auftragsnummer|rechnung|rechnungsnummer|kundennummer|sendung"
    r"|sendungsnummer|ordine|prenotazione|fattura|codice|spedizione)"
)

_ANTI_PATTERN: Final = (
    rf"\b{_ANTI_WORDS}\s*(?:\#|no\.?|nr\.?|n[º°o]\.?|n\.|num\.?|number|numbers|id|code|ref|n[uú]mero|numero"
    rf"|num[eé]ro|nummer|de|do|da)?\s*(?:\#|no\.?)?\s*(?:is|was|es|[eé]|est|ist|:|=|-|\u2013)?\s*(?:\#|n[º°])?\s*$"
)

# A bare '#' or "nº" right before the digits ("ref #", "#4155550123") marks an identifier.
_HASH_PATTERN: Final = r"(?:\#|n[º°]|no\.)\s*$"

# Right context that says what the digits were.
_RIGHT_ANTI: Final = (
    rf"^\W{{0,3}}(?:is|was|es|[eé])?\s*(?:the|my|your|our|el|la|o|a|mi|tu|su)?\s*{_ANTI_WORDS}\b"
)
_RIGHT_SELF: Final = (
    r"^\W{0,3}(?:\(?(?:cell|mobile|my cell|my number|mine|me|personal|whatsapp|wa|celular|cel|m[oó]vil"
    r"|portable|handy)\)?\b|(?:is|es|[eé])\s+(?:my|mi|meu|minha)\s+"
    r"(?:cell|mobile|number|phone|n[uú]mero|celular|whatsapp|direct line))"
)
_RIGHT_OTHER: Final = (
    rf"^\W{{0,3}}(?:\(\s*{_RELATION}\s*\)|(?:is|es|[eé])\s+(?:my|mi|meu|minha|the|his|her|their)\s+"
    rf"{_RELATION}(?:'s|\u2019s)?\b|(?:is|es)\s+(?:his|hers|theirs)\b)"
)

# --- matching: every cue pattern is case-insensitive ----------------------------------------------------
#
# Python's regex engine is about three times slower with IGNORECASE than without. So each pattern is also
# compiled case-sensitively (its sources are all lowercase) and run on ``text.lower()`` whenever that gives
# exactly the case-insensitive answer: always for ASCII, and for other text unless it holds one of the
# few characters whose lowercase differs from the engine's case folding (dotted and dotless i, long s).
# Offsets are the same in both strings, so cue text is always cut from the original.

_FOLD_UNSAFE: Final = frozenset("\u0130\u0131\u017f")
_Span = tuple[int, int]


def _lowered(text: str) -> str | None:
    """``text.lower()`` when a case-sensitive match on it equals a case-insensitive match on ``text``."""
    if text.isascii():
        return text.lower()
    if not _FOLD_UNSAFE.isdisjoint(text):
        return None
    low = text.lower()
    return low if len(low) == len(text) else None


class _Cue:
    """One case-insensitive cue pattern, with its case-sensitive twin for lowercased text (whose word
    alternations are regrouped for speed, see :func:`_regroup`)."""

    __slots__ = ("folded", "lowered")

    def __init__(self, source: str) -> None:
        self.folded = re.compile(source, re.IGNORECASE)
        self.lowered = re.compile(_regroup(source))

    def search(self, text: str, low: str | None) -> _Span | None:
        match = self.lowered.search(low) if low is not None else self.folded.search(text)
        return match.span() if match is not None else None

    def match(self, text: str, low: str | None) -> _Span | None:
        match = self.lowered.match(low) if low is not None else self.folded.match(text)
        return match.span() if match is not None else None

    def match_first(self, text: str, low: str | None) -> tuple[bool, int, int] | None:
        """Like :meth:`match`, and whether the pattern's one capturing group (its first alternative,
        for a pattern ``(?:(A)|B)``) took part."""
        match = self.lowered.match(low) if low is not None else self.folded.match(text)
        return (match.lastindex == 1, *match.span()) if match is not None else None

    def nearest(self, text: str, low: str | None) -> _Span | None:
        """The last match (the one nearest the number, for a left window), as ``finditer`` finds them."""
        span = None
        for match in self.lowered.finditer(low) if low is not None else self.folded.finditer(text):
            span = match.span()
        return span


def _skip(source: str, i: int) -> int:
    """Index just past the escape, character class or single character at ``source[i]``."""
    if source[i] == "\\":
        return i + 2
    if source[i] != "[":
        return i + 1
    i += 1
    if source[i : i + 1] == "^":
        i += 1
    if source[i : i + 1] == "]":  # a ']' first in a class is a member
        i += 1
    while source[i] != "]":
        i += 2 if source[i] == "\\" else 1
    return i + 1


def _group_end(source: str, i: int) -> int:
    """Index of the ')' closing the group that opens at ``source[i]``."""
    depth = 0
    while True:
        ch = source[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i = _skip(source, i)


def _split_top(alternation: str) -> list[str]:
    """The top-level alternatives of a pattern (its '|' outside groups and classes)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(alternation):
        ch = alternation[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(alternation[start:i])
            start = i + 1
        i = _skip(alternation, i)
    parts.append(alternation[start:])
    return parts


def _regroup(source: str) -> str:
    """``source`` with every group of words (``(?:my|mi|mis|our)``) grouped by first letter
    (``(?:m(?:y|i|is)|o(?:ur))``), for the case-sensitive search of lowercased text.

    The regex engine compares a branch's first letter before entering it, so it then tries one letter's
    words at a place instead of every word. The matches are the same: words with different first
    letters never match at the same place, and the order of words with the same letter is kept.
    """
    out: list[str] = []
    i = 0
    while i < len(source):
        if source.startswith("(?:", i):
            end = _group_end(source, i)
            alternatives = _split_top(_regroup(source[i + 3 : end]))
            out.append(f"(?:{_by_first_letter(alternatives)})")
            i = end + 1
        else:
            j = _skip(source, i)
            out.append(source[i:j])
            i = j
    return "".join(out)


def _by_first_letter(alternatives: list[str]) -> str:
    plain = all("a" <= a[:1] <= "z" and a[1:2] not in ("?", "*", "+", "{") for a in alternatives)
    if len(alternatives) < 2 or not plain:
        return "|".join(alternatives)
    tails: dict[str, list[str]] = {}
    for alternative in alternatives:
        tails.setdefault(alternative[0], []).append(alternative[1:])
    return "|".join(f"{letter}(?:{'|'.join(rest)})" for letter, rest in tails.items())


_SELF_RE: Final = _Cue("|".join(f"(?:{p})" for p in _SELF_PATTERNS))
_LABEL_RE: Final = _Cue(_LABEL_PATTERN)
_OTHER_RE: Final = _Cue("|".join(f"(?:{p})" for p in _OTHER_PATTERNS))
_ANTI_RE: Final = _Cue(_ANTI_PATTERN)
_HASH_RE: Final = _Cue(_HASH_PATTERN)
_RIGHT_ANTI_RE: Final = _Cue(_RIGHT_ANTI)
_RIGHT_SELF_RE: Final = _Cue(_RIGHT_SELF)
_RIGHT_OTHER_RE: Final = _Cue(_RIGHT_OTHER)
# Both right-hand owner patterns in one: an other-person cue if one matches, else a self cue. Both are
# anchored at the start, so the alternation gives what matching one and then the other would.
_RIGHT_OWNER_RE: Final = _Cue(f"(?:({_RIGHT_OTHER})|{_RIGHT_SELF})")
_LABEL_WORD_RE: Final = _Cue(r"(?:phone|cell|tel|mobile|contact|whats ?app)\s*$")
# What _LABEL_WORD_RE's match ends with, once the trailing whitespace ('\s', as str.rstrip strips) is gone.
_LABEL_WORD_ENDINGS: Final = ("phone", "cell", "tel", "mobile", "contact", "whatsapp", "whats app")
_SELF_HASH_RE: Final = _Cue(r"\b(?:my|mi|meu|our)\s*(?:\w+\s*)?\#\s*$")
#: Every cue pattern, for the tests that check the case-sensitive twins are exact.
CUE_PATTERNS: Final = (
    _SELF_RE,
    _LABEL_RE,
    _OTHER_RE,
    _ANTI_RE,
    _HASH_RE,
    _RIGHT_ANTI_RE,
    _RIGHT_SELF_RE,
    _RIGHT_OTHER_RE,
    _RIGHT_OWNER_RE,
    _LABEL_WORD_RE,
    _SELF_HASH_RE,
)

_WORD_BEFORE_RE: Final = re.compile(r"\w+$")
_ABBREVIATIONS: Final = frozenset(
    {
        *("n", "no", "nr", "nro", "num", "n\u00fam", "tel", "t\u00e9l", "ph", "mob", "cel", "cell", "ext"),
        *("ref", "conf", "res", "inv", "acct", "apt", "st", "ave", "dr", "mr", "mrs", "ms", "approx", "ca"),
        *("vs", "p", "p\u00e1g"),
    }
)


class CueReading(NamedTuple):
    """What the context says about one candidate (a tuple: one is built for every number found)."""

    anti: str | None = None  # the anti-cue text when the digits are an identifier, not a phone
    self_cue: str | None = None
    other_cue: str | None = None
    label: str | None = None


_NO_CUES: Final = CueReading()


def _clause_left(left: str) -> str:
    """The part of the left window after the last sentence or line end ("Tel. " and "n. " are no end)."""
    if "\n" not in left and ". " not in left and "! " not in left and "? " not in left and "; " not in left:
        return left  # the usual window, one clause: five 'in' tests cost less than five rfind calls
    cut = max(left.rfind("\n"), left.rfind(". "), left.rfind("! "), left.rfind("? "), left.rfind("; "))
    if cut < 0:
        return left
    if left[cut] != ".":
        return left[cut + 1 :]
    word = _WORD_BEFORE_RE.search(left, max(0, cut - 12), cut)
    if word is None or word.group(0).lower() not in _ABBREVIATIONS:
        return left[cut + 1 :]
    return _clause_left(left[:cut]) + left[cut:] if cut else left


def _word_forms(alternation: str) -> frozenset[str]:
    """Every first word an alternation of words can match, spelled out ("r[eé]serva" gives two).

    Used as a cheap prefilter: the big cue regexes only run when a word of the text is one of these
    (or its plural), since a regex with a hundred alternatives costs microseconds per window.
    """
    forms: set[str] = set()
    for alternative in alternation.removeprefix("(?:").removesuffix(")").split("|"):
        variants = [""]
        i = 0
        while i < len(alternative):
            ch = alternative[i]
            if ch == "[":
                close = alternative.index("]", i)
                variants = [v + option for v in variants for option in alternative[i + 1 : close]]
                i = close + 1
            elif ch == "\\":
                variants = [v + alternative[i + 1] for v in variants]
                i += 2
            elif ch == "?":
                variants = variants + [v[:-1] for v in variants]
                i += 1
            elif not ch.isalnum():
                break
            else:
                variants = [v + ch for v in variants]
                i += 1
        forms.update(v.lower() for v in variants if v)
    return frozenset(forms)


_TOKEN_RE: Final = re.compile(r"[^\W\d_]+")


def _with_plurals(forms: frozenset[str]) -> frozenset[str]:
    return forms | {form + "s" for form in forms}


# Each set holds the forms and their plurals, so one set operation tells whether any word is one.
_ANTI_FORMS: Final = _with_plurals(_word_forms(_ANTI_WORDS))
_RELATION_FORMS: Final = _with_plurals(_word_forms(_RELATION))
_OTHER_WORDS: Final = frozenset(
    {
        *("his", "her", "their", "them", "him", "su", "sus", "seu", "sua", "dele", "dela", "son", "sa"),
        *("leur", "sein", "seine", "ihr", "ihre", "not", "isn", "no", "n\u00e3o", "nao"),
    }
)


# Words that an other-person cue needs: a relation ("wife", "venue") or a pronoun ("his", "her").
_OTHER_FIRST: Final = _RELATION_FORMS | _OTHER_WORDS


def _not_after_label(text: str, low: str | None, end: int) -> bool:
    """No phone label ("phone", "cell #") right before ``end``: "phone # 415..." is no identifier."""
    head = text[:end].rstrip(" #:")
    if low is not None:  # _LABEL_WORD_RE on the lowercased twin, as one test: a label word, then spaces
        return not low[: len(head)].rstrip().endswith(_LABEL_WORD_ENDINGS)
    return _LABEL_WORD_RE.search(head, None) is None


def _left_anti(near: str, low: str | None) -> str | None:
    """The anti-cue ending ``near`` ("order #", "booking ref"); callers first check that one of the last
    six words names one (``_ANTI_FORMS``), which the answer requires."""
    anti = _ANTI_RE.search(near, low)
    if anti is not None and _not_after_label(near, low, anti[0]):
        return near[anti[0] : anti[1]].strip()
    return None


def anti_cue_before(left: str) -> str | None:
    """The anti-cue right before the digits ("order #", "booking ref"), if any: a cheap early check."""
    return anti_cue_at(left, len(left))[0]


#: The clause left of a number as :func:`read_cues` reads it, already read by :func:`anti_cue_at`: the
#: text, its lowercased twin (None when that is not exact) and its lowercased words. A plain tuple: one
#: is made for most digit runs, and a named tuple costs several times as much to build.
LeftReading = tuple[str, str | None, list[str]]


def anti_cue_at(text: str, end: int) -> tuple[str | None, int, list[str], LeftReading | None]:
    """:func:`anti_cue_before` for the digits at ``end`` of ``text``, with what it read on the way:
    where its window starts, the lowercased words in it (so a caller can reuse them), and, when the
    clause before the digits is short enough that :func:`read_cues` would read exactly the same window,
    that reading (for :func:`read_cues_after_anti`)."""
    start = end - ANTI_WINDOW - 16
    clause = _clause_left(text[start if start > 0 else 0 : end])
    near = clause[-ANTI_WINDOW:]
    low = near.lower() if near.isascii() else _lowered(near)
    tokens = _TOKEN_RE.findall(low if low is not None else near.lower())
    # Most windows name no identifier: the set test of _left_anti, inlined, settles them.
    anti = _left_anti(near, low) if not _ANTI_FORMS.isdisjoint(tokens[-6:]) else None
    # A clause no longer than the anti-cue window ends at a cut at least 16 characters into this window,
    # and the cut is chosen from the characters after (and the 12 before) it, which read_cues's wider
    # window holds too: both read this same clause, so read_cues can take the reading as it is.
    reading = (near, low, tokens) if len(clause) <= ANTI_WINDOW else None
    return anti, end - len(near), tokens, reading


def read_cues(left: str, right: str, *, owner: bool = True) -> CueReading:
    """Read the cues in ``left`` (text just before the digits) and ``right`` (just after).

    With ``owner=False`` only the anti-cues are read (the caller already knows whose number it is:
    the business's own, or any number the business sends); the owner fields are then left empty.
    """
    tail = _clause_left(left)[-LEFT_WINDOW:]
    tail_low = tail.lower() if tail.isascii() else _lowered(tail)
    tokens = _TOKEN_RE.findall(tail_low if tail_low is not None else tail.lower())
    if not _ANTI_FORMS.isdisjoint(tokens[-6:]):
        near_low = tail_low[-ANTI_WINDOW:] if tail_low is not None else None
        anti = _left_anti(tail[-ANTI_WINDOW:], near_low)
        if anti is not None:
            return CueReading(anti=anti)
    return read_cues_after_anti(tail, tail_low, tokens, right, owner)


def read_cues_after_anti(
    tail: str, tail_low: str | None, tokens: list[str], right: str, owner: bool = True
) -> CueReading:
    """:func:`read_cues` once the left clause (``tail``, its lowercased twin and words: a
    ``LeftReading`` from :func:`anti_cue_at`, or read_cues's own) is read and holds no anti-cue."""
    near = tail[-ANTI_WINDOW:]
    near_low = tail_low[-ANTI_WINDOW:] if tail_low is not None else None
    if near_low is not None:  # '#', 'º' and '°' have no case: the lowercased copy tells as well
        end = near_low[-5:]
        hash_like = "#" in end[-3:] or "\u00ba" in end[-4:] or "\u00b0" in end[-4:] or "no." in end
    else:
        hash_like = (
            "#" in near[-3:] or "\u00ba" in near[-4:] or "\u00b0" in near[-4:] or "no." in near[-5:].lower()
        )
    if (
        hash_like
        and _HASH_RE.search(near, near_low) is not None
        and _not_after_label(near, near_low, len(near) - 1)
        and _SELF_HASH_RE.search(near, near_low) is None  # "my #", "my cell #": a phone label
    ):
        return CueReading(anti="#")
    head = right[:RIGHT_WINDOW]
    if "\n" in head:
        head = head[: head.index("\n")]
    head_low = head.lower() if head.isascii() else _lowered(head)
    # An identifier named right after the digits: the pattern (anchored at the start, so it fails fast on
    # most text) and one of the first words being an identifier's name; the pattern first, as the
    # cheaper of the two tests.
    right_anti = _RIGHT_ANTI_RE.search(head, head_low)
    if right_anti is not None and not _ANTI_FORMS.isdisjoint(
        _TOKEN_RE.findall(head_low if head_low is not None else head.lower())[:6]
    ):
        return CueReading(anti=head[right_anti[0] : right_anti[1]].strip())
    if not owner:
        return _NO_CUES
    other = _OTHER_RE.nearest(tail, tail_low) if not _OTHER_FIRST.isdisjoint(tokens) else None
    self_offset = len(tail) - SELF_WINDOW if len(tail) > SELF_WINDOW else 0
    self_cue = _SELF_RE.nearest(tail[self_offset:], tail_low[self_offset:] if tail_low is not None else None)
    # Both right-hand patterns are anchored at the start ('^'), so a match is all a search would find.
    right_owner = _RIGHT_OWNER_RE.match_first(head, head_low)
    right_other = right_self = None
    if right_owner is not None:
        if right_owner[0]:  # the other-person pattern matched
            right_other = right_owner[1:]
        else:
            right_self = right_owner[1:]
    other_text = tail[other[0] : other[1]] if other is not None else None
    self_text = tail[self_offset + self_cue[0] : self_offset + self_cue[1]] if self_cue is not None else None
    # The nearer of a self cue and an other-person cue speaks for the number ("call my wife at 415 or
    # me at 650": "me at" is nearer to 650).
    if other is not None and self_cue is not None and self_offset + self_cue[0] > other[1]:
        other_text = None
    if right_other is not None:
        other_text = head[right_other[0] : right_other[1]].strip()
    elif right_self is not None and other_text is None:
        self_text = self_text or head[right_self[0] : right_self[1]].strip()
    label = None
    if self_text is None and other_text is None:
        label_offset = len(tail) - 24 if len(tail) > 24 else 0
        found = _LABEL_RE.search(
            tail[label_offset:], tail_low[label_offset:] if tail_low is not None else None
        )
        label = tail[label_offset + found[0] : label_offset + found[1]] if found is not None else None
    return CueReading(
        None,
        self_text.strip() if self_text else None,
        other_text.strip() if other_text else None,
        label.strip() if label is not None else None,
    )
