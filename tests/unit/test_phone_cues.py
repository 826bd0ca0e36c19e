"""Reading labels: the patterns built from the cue tables, and the token index that lets them run only
where a label can start (a fast path the property tests here prove equal to trying every place)."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.domain.phone_cue_words import LANGUAGES
from workers.domain.phone_cues import CueReader, Kind, Message, language_order, reader_for
from workers.domain.phone_patterns import (
    TOKEN_RE,
    first_tokens,
    spellings,
    template_pattern,
    words_pattern,
)

# --- the pattern builders -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.text(alphabet="abcé '#.-", min_size=1, max_size=8), min_size=1, max_size=12))
def test_a_word_trie_matches_exactly_its_words(words: list[str]) -> None:
    pattern = re.compile(words_pattern(words))
    for word in words:
        for form in spellings(word):
            # A space in a phrase matches whitespace; written with one space, it matches itself.
            assert pattern.fullmatch(" ".join(form.split(" "))) or " " in form.strip() or not form.strip(), (
                form
            )


def test_spellings_cover_accents_apostrophes_and_hyphens() -> None:
    assert spellings("número") == {"número", "numero"}
    assert {"wife's", "wife\u2019s", "wifes"} <= spellings("wife's")
    assert {"appelez-moi", "appelez moi", "appelezmoi"} <= spellings("appelez-moi")
    assert spellings("é") == {"é"}  # "e" would be "and"


def _expansions(template: str, macros: dict[str, str], rng: random.Random, count: int) -> list[str]:
    """Random phrases a template stands for (one choice taken at random at every choice)."""
    out = []
    for _ in range(count):
        text = template
        while "<" in text or "{" in text:
            text = re.sub(r"<(\w+)>", lambda m: "{" + macros[m.group(1)] + "}", text)
            match = re.search(r"\{([^{}]*)\}", text)
            if match is None:
                break
            text = text[: match.start()] + rng.choice(match.group(1).split("|")) + text[match.end() :]
        out.append(" ".join(text.split()))
    return out


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_phrase_of_a_template_is_matched_and_starts_with_an_indexed_token(language: str) -> None:
    """The token index is complete: whatever phrase a template stands for, its pattern matches it and
    its first token is among the template's first tokens (else the pattern would never be tried)."""
    words = LANGUAGES[language]
    rng = random.Random(language)
    fields = ("self_before", "self_after", "other_before", "other_next_to", "other_after", "phone_labels")
    for field in (*fields, "identifier_labels"):
        for template in getattr(words, field):
            pattern = re.compile(template_pattern(template, words.macros))
            starts = first_tokens(template, words.macros)
            for phrase in _expansions(template, words.macros, rng, 25):
                # Each element is spelled every way; a phrase as written and without accents are two.
                for form in {
                    phrase,
                    phrase.encode("ascii", "ignore").decode() if phrase.isascii() else phrase,
                }:
                    assert pattern.fullmatch(form), (template, form)
                    first = TOKEN_RE.match(form)
                    assert first is not None and first.group(0) in starts, (template, form)


# --- the token index equals the plain search ----------------------------------------------------------------

_PIECES = [
    "my number is ",
    "call me at ",
    "Call Me ",
    "order #",
    "ORDER NUMBER ",
    "booking ref ",
    "my wife's number is ",
    "text my husband at ",
    "mi número es ",
    "el de mi esposa es ",
    "meu celular ",
    "me liga no ",
    "mon portable : ",
    "appelez-moi au ",
    "meine Handynummer ",
    "Rufen Sie mich an unter ",
    "Kundennummer ",
    "número de socio ",
    "Tel.: ",
    "WhatsApp ",
    "(my son)",
    "is my cell",
    "is my member ID",
    " ist meine Kundennummer",
    ", my zip is 94110",
    " - flight DL 1234",
    "Thanks! ",
    "hello there ",
    "\n",
    ". ",
    ", ",
    "#",
    "no. ",
    " ",
]
_WINDOWS = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(window=_WINDOWS, region=st.sampled_from(["US", "BR", "FR", "DE", "MX", "IT"]))
def test_reading_at_indexed_tokens_is_reading_everywhere(window: str, region: str) -> None:
    """Each question read through the token index answers as the plain way does (every pattern tried at
    every place of the window, case-insensitively)."""
    reader = reader_for(region)
    indexed = Message(window, window.lower())
    plain = Message(window, None)
    end = len(window)
    assert reader.next_to(indexed, 0, end) == reader.next_to(plain, 0, end)
    assert reader.owner_before(indexed, 0, end) == reader.owner_before(plain, 0, end)
    assert reader.before(indexed, 0, end) == reader.before(plain, 0, end)
    assert reader.after(indexed, 0, end) == reader.after(plain, 0, end)


# --- what the questions answer ------------------------------------------------------------------------------


def _next_to(window: str, region: str = "US") -> tuple[Kind, str] | None:
    label = reader_for(region).next_to(Message.of(window), 0, len(window))
    return (label.kind, label.text) if label is not None else None


def _after(window: str, region: str = "US") -> tuple[Kind, str] | None:
    label = reader_for(region).after(Message.of(window), 0, len(window))
    return (label.kind, label.text) if label is not None else None


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("call me at ", (Kind.SELF, "call me")),
        ("call me about order ", (Kind.IDENTIFIER, "order")),  # the nearest label names the digits
        ("my order number is ", (Kind.IDENTIFIER, "order number")),
        ("my number for the reservation is ", (Kind.SELF, "my number for the reservation")),
        ("Mom: ", (Kind.OTHER, "Mom")),
        ("Tel.: ", (Kind.PHONE, "Tel.")),
        ("USt-IdNr: DE ", (Kind.IDENTIFIER, "USt-IdNr")),  # a code's letters belong to its value
        ("mi número de socio ", (Kind.IDENTIFIER, "número de socio")),
        ("número de teléfono: ", (Kind.PHONE, "número de teléfono")),
        ("rufen Sie meinen Mann an: ", (Kind.OTHER, "rufen Sie meinen Mann")),
        ("hello there ", None),
    ],
)
def test_the_label_next_to_the_digits(window: str, expected: tuple[Kind, str] | None) -> None:
    assert _next_to(window) == expected


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (" is my order number", (Kind.IDENTIFIER, "order number")),
        (" es mi número de socio", (Kind.IDENTIFIER, "número de socio")),
        (" ist meine Kundennummer", (Kind.IDENTIFIER, "Kundennummer")),
        (" (my son)", (Kind.OTHER, "(my son)")),
        (" is my cell", (Kind.SELF, "my cell")),
        (" c'est mon numéro", (Kind.SELF, "mon numéro")),
        ("? Thats my brother", (Kind.OTHER, "my brother")),
        (", my zip is 94110", None),  # the label has a value of its own
        (" - flight DL 1234", None),
        (" - table 28", None),
        (" seine Nummer ist 0151 2345678", None),
        ("pls", None),  # glued to the digits: a typo, not a label (German "PLZ")
        (". My order is late", None),  # a new sentence, not about the digits
    ],
)
def test_the_label_after_the_digits(window: str, expected: tuple[Kind, str] | None) -> None:
    assert _after(window) == expected


def test_the_business_language_is_read_first() -> None:
    assert language_order("BR")[0] == "pt" and language_order("DE")[0] == "de"
    assert language_order("US")[0] == "en" and language_order(None)[0] == "en"
    assert language_order("ZZ")[0] == "en"
    assert isinstance(reader_for("FR"), CueReader)
