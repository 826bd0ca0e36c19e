"""Sentiment of an inbound English message, -1 (negative) to 1 (positive), by VADER.

VADER (vaderSentiment, a lexicon and rules made for short social-media text) scores English only,
so a message the cheap guess in workers.domain.language does not call English gets None: no score
is better than a wrong one. The score is VADER's `compound`, rounded to three places. Only the
first :data:`MAX_CHARS` characters are scored: VADER's cost grows with the text, and the opening
of a chat message carries its tone.

VADER gives a message none of whose words is in its lexicon exactly 0: only lexicon words carry
valence (boosters and negations only change theirs). Such a message, written in ASCII (so with no
emoji for VADER to spell out in words), is scored 0.0 without running VADER, read the way VADER
reads words (split at spaces, punctuation stripped unless that leaves two characters or fewer).
"""

from __future__ import annotations

import string
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from workers.domain.language import is_english

MAX_CHARS = 500


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    """Built on first use (it reads its lexicon files), then shared: it keeps no state per call."""
    return SentimentIntensityAnalyzer()


def sentiment(text: str | None) -> float | None:
    if not text or not is_english(text):
        return None
    text = text[:MAX_CHARS]
    analyzer = _analyzer()
    if text.isascii() and not _has_lexicon_word(text, analyzer.lexicon):
        return 0.0
    return round(float(analyzer.polarity_scores(text)["compound"]), 3)


def _has_lexicon_word(text: str, lexicon: dict[str, float]) -> bool:
    for token in text.split():
        stripped = token.strip(string.punctuation)
        if (token if len(stripped) <= 2 else stripped).lower() in lexicon:
            return True
    return False
