"""Regular expressions from word lists and cue templates, built so they stay fast with thousands of words.

* :func:`spellings` -- the ways people type a phrase (with and without accents, apostrophes, hyphens);
* :func:`words_pattern` -- one pattern for a set of words, as a *trie*: the regex engine reads each
  character once at a place instead of once per word, so a thousand words cost about what ten do;
* :func:`template_pattern` -- the pattern of a cue template of :mod:`phone_cue_words` (``{a|b|}``
  choices, ``<name>`` word lists, literal words in every spelling);
* :func:`first_tokens` -- the words a template's phrases can start with, so a pattern need only run
  where one of them is (see :class:`workers.domain.phone_cues.CueReader`).

Patterns are lowercase and meant for lowercased text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

#: A phrase starts a word...
LETTER_BEFORE: Final = r"(?<![^\W\d_])"
#: ...and ends one (digits may touch it: "at7185550123").
LETTER_AFTER: Final = r"(?![^\W\d_])"
#: Tokens are runs of letters and single punctuation characters: a phrase starts at one ("order", "#",
#: "(my son)"), never inside a word.
TOKEN_RE: Final = re.compile(r"[^\W\d_]+|[^\w\s]")


def _without_accents(phrase: str) -> str:
    # Recomposed (NFC), unlike workers.domain.accents: a cue word must match message text as
    # written, where a Hangul syllable, say, is one character, not the jamo NFD spells it as.
    decomposed = unicodedata.normalize("NFD", phrase)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def spellings(phrase: str) -> set[str]:
    """The ways people type a phrase: as written, without accents, with a straight, curly or no
    apostrophe, with a space (or nothing) for a hyphen between words."""
    # A one-letter word keeps its accent: "é" (is) without it is "e" (and).
    forms = {phrase, _without_accents(phrase)} if len(phrase) > 1 else {phrase}
    for form in list(forms):
        if "'" in form:
            forms |= {form.replace("'", "\u2019"), form.replace("'", "")}
    for form in list(forms):
        if re.search(r"\w-\w", form):
            forms |= {re.sub(r"(?<=\w)-(?=\w)", " ", form), re.sub(r"(?<=\w)-(?=\w)", "", form)}
    return forms


def _pieces(literal: str) -> list[str]:
    """A literal as regex pieces: a space matches whitespace, at least one between two word characters
    ("my number"), any amount next to punctuation ("order #" and "order#")."""
    out: list[str] = []
    for i, ch in enumerate(literal):
        if ch != " ":
            out.append(re.escape(ch))
            continue
        before, after = literal[i - 1 : i], literal[i + 1 : i + 2]
        loose = (before and not before.isalnum()) or (after and not after.isalnum())
        if not out or out[-1] not in (r"\s+", r"\s*"):
            out.append(r"\s*" if loose else r"\s+")
    return out


_Trie = dict[str, "_Trie"]


def _trie(literals: Iterable[str]) -> str:
    """One pattern for a set of literal alternatives, as a trie; a longer alternative is tried before a
    shorter one."""
    root: _Trie = {}
    for literal in literals:
        node = root
        for piece in _pieces(literal):
            node = node.setdefault(piece, {})
        node[""] = {}  # an alternative ends here
    return _trie_pattern(root)


def _trie_pattern(node: _Trie) -> str:
    branches = [piece + _trie_pattern(child) for piece, child in sorted(node.items()) if piece]
    if not branches:
        return ""
    body = "|".join(branches)
    if "" in node:  # a shorter alternative ends here: the longer ones first (a greedy '?')
        return f"(?:{body})?"
    return body if len(branches) == 1 else f"(?:{body})"


def words_pattern(words: Iterable[str]) -> str:
    """One pattern matching any of ``words`` in any of their :func:`spellings`."""
    return _trie({form for word in words for form in spellings(word)})


def literals_pattern(literals: Iterable[str]) -> str:
    """One pattern matching any of ``literals`` exactly as written."""
    return _trie(literals)


def _split_top(text: str) -> list[str]:
    """The alternatives of a choice's body: its '|' outside nested braces."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _closing(text: str, at: int) -> int:
    """Index of the '}' closing the choice that opens at ``text[at]``."""
    depth = 0
    for i in range(at, len(text)):
        depth += text[i] == "{"
        depth -= text[i] == "}"
        if depth == 0:
            return i
    raise ValueError(f"unclosed choice in {text!r}")


def _head(template: str, macros: dict[str, str]) -> tuple[list[str] | None, str]:
    """The first element of a template and the rest: the alternatives of a choice or a word list
    (a list), or None for a literal (the rest is then the literal up to the next element)."""
    if template.startswith("{"):
        end = _closing(template, 0)
        return _split_top(template[1:end]), template[end + 1 :]
    if template.startswith("<"):
        end = template.index(">")
        return macros[template[1:end]].split("|"), template[end + 1 :]
    end = min((j for j in (template.find("{"), template.find("<")) if j >= 0), default=len(template))
    return None, template[:end]


def template_pattern(template: str, macros: dict[str, str]) -> str:
    """The regular expression of one cue template: ``{a|b|}`` choices, ``<name>`` word lists (from
    ``macros``), literal words in every spelling of :func:`spellings`."""
    parts: list[str] = []
    while template:
        alternatives, rest = _head(template, macros)
        if alternatives is None:
            parts.append(_trie(spellings(rest)))
            template = template[len(rest) :]
            continue
        plain = [a for a in alternatives if "{" not in a and "<" not in a]
        pieces = [_trie({s for a in plain for s in spellings(a)} - {""})] if any(plain) else []
        pieces += [template_pattern(a, macros) for a in alternatives if a not in plain]
        body = "|".join(p for p in pieces if p)
        parts.append(f"(?:{body})?" if "" in alternatives else f"(?:{body})")
        template = rest
    return "".join(parts)


def first_tokens(template: str, macros: dict[str, str]) -> set[str]:
    """The tokens (of :data:`TOKEN_RE`) a phrase of ``template`` can start with."""
    template = template.lstrip(" ")
    if not template:
        return set()
    alternatives, rest = _head(template, macros)
    if alternatives is not None:
        return set().union(*(first_tokens(a + rest, macros) for a in alternatives))
    tokens: set[str] = set()
    for form in spellings(rest):
        token = TOKEN_RE.match(form)
        if token is None:
            continue
        more = template[len(rest) :]  # empty, or the next choice or word list
        if token.end() == len(form) and more and token.group(0).isalpha():
            # The word may go on in the next element ("wife" + "{'s|s}"): read it with each choice.
            choices, after = _head(more, macros)
            tokens |= set().union(*(first_tokens(form + c + after, macros) for c in choices or ()))
        else:
            tokens.add(token.group(0))
    return tokens
