"""A cheap guess whether a chat message is written in English.

Sentiment is scored by an English lexicon (VADER), so it is given only to messages this guess
calls English; every other message gets no sentiment (null) rather than a wrong one.

How: the message's words, lower-cased with accents folded, are counted against a short list of
frequent words per language (function words and chat staples: "the", "you", "thanks" / "el",
"gracias" / "o", "obrigado" / "le", "merci" / "der", "danke"), for English, Spanish, Portuguese,
French and German, the languages the extractor reads. A message is English when more of its
distinct words are English ones than any other language's. A message with none of these words
(a short "Great!!", "Terrible service") counts as English when every letter in it is ASCII, and
as unknown otherwise ("Qué bueno"). Words shared by several languages ("no", "a") are left out
of the lists. One pass over at most the first 400 characters; no model, no I/O.
"""

from __future__ import annotations

import re

from workers.domain.accents import without_accents

SAMPLE_CHARS = 400

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def _listed(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORDS: dict[str, frozenset[str]] = {
    "en": _listed(
        "the and you your is are was were be have has had do does did will would can could should"
        " what when where how why which who this that these those there here with for from about"
        " not don't can't won't i'm it's we they my me our it of to in on at an or if just please"
        " thanks thank hi hello hey yes yeah okay ok sure great good bad awful terrible love like"
        " want need book booking table people guests party tonight tomorrow today"
    ),
    "es": _listed(
        "el la los las un una unos unas es son está estan estoy soy hay que qué de del por para"
        " con sin pero muy mas más mi mis tu tus su sus yo usted ustedes nosotros gracias hola"
        " buenos buenas dias días tardes noches quiero quisiera puedo pueden tienen tiene cuanto"
        " cuánto cuando cuándo donde dónde reserva mesa personas mañana hoy bien"
    ),
    "pt": _listed(
        "o os as um uma uns umas é são está estão estou sou tem têm que de do da dos das por"
        " para com sem mas muito mais meu minha meus minhas você vocês nós eu obrigado obrigada"
        " olá oi bom boa dia tarde noite quero queria posso podem quanto quando onde reserva"
        " pessoas amanhã hoje não sim"
    ),
    "fr": _listed(
        "le la les un une des est sont suis êtes et ou mais que qui quoi de du au aux pour avec"
        " sans très plus mon ma mes ton ta tes son sa ses je tu il elle nous vous ils elles"
        " merci bonjour bonsoir salut oui voudrais veux pouvez peux combien quand où réserver"
        " réservation table personnes demain aujourd'hui bien c'est"
    ),
    "de": _listed(
        "der die das ein eine einen einem ist sind bin bist war und oder aber dass mit ohne für"
        " von zu zum zur im am auf nicht kein keine sehr mehr mein meine dein deine ich du er"
        " sie wir ihr danke hallo guten tag abend morgen ja bitte möchte möchten kann können"
        " wie wann wo was tisch personen heute reservieren reservierung gut"
    ),
}


# Folded once at import: "está" and "esta" are the same word to a person typing on a phone.
_FOLDED = {lang: frozenset(without_accents(w) for w in words) for lang, words in _WORDS.items()}
# A word in more than one list says nothing about which language it is.
_SHARED = frozenset(
    w for lang, words in _FOLDED.items() for w in words if any(w in _FOLDED[o] for o in _FOLDED if o != lang)
)
_SIGNAL = {lang: words - _SHARED for lang, words in _FOLDED.items()}
_OTHERS = tuple(lang for lang in _SIGNAL if lang != "en")


def is_english(text: str | None) -> bool:
    """Does this message read as English (see the module's rules)?"""
    if not text:
        return False
    sample = text[:SAMPLE_CHARS].lower()
    words = set(_WORD.findall(sample))
    if not words:
        return False
    # An ASCII sample has only ASCII words: one check of the sample instead of one per word.
    ascii_words = sample.isascii() or all(w.isascii() for w in words)
    if not ascii_words:
        words = {without_accents(w) for w in words} | words
    english = len(words & _SIGNAL["en"])
    others = max(len(words & _SIGNAL[lang]) for lang in _OTHERS)
    if english == 0 and others == 0:
        return ascii_words
    return english > others
