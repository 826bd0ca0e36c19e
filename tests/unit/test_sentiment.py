"""Sentiment on the timeline: VADER's score for English inbound messages, None for the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from schema.linked import LinkedEvent
from workers.domain.language import is_english
from workers.timeline.projection import project
from workers.timeline.sentiment import MAX_CHARS, sentiment

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "business_chat.jsonl"


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("Thank you so much, the party was amazing!", 1),
        ("This was the worst service ever, I'm very disappointed", -1),
        ("Do you do birthdays?", 0),
    ],
)
def test_english_messages_get_a_score_of_their_sign(text: str, sign: int) -> None:
    score = sentiment(text)
    assert score is not None and -1 <= score <= 1
    assert (score > 0.05) - (score < -0.05) == sign


@pytest.mark.parametrize("text", ["¡Muchas gracias, todo estuvo increíble!", "Merci beaucoup", "", None])
def test_other_languages_and_empty_text_get_none(text: str | None) -> None:
    assert sentiment(text) is None


def test_the_shortcut_gives_what_vader_gives() -> None:
    """Messages with no lexicon word skip VADER: the corpus shows the score is the same."""
    vader = SentimentIntensityAnalyzer()
    texts = [json.loads(line)["text"] for line in CORPUS.read_text().splitlines()]
    english = [text for text in texts if is_english(text)]
    assert len(english) > 1000
    for text in english:
        assert sentiment(text) == round(vader.polarity_scores(text[:MAX_CHARS])["compound"], 3), text


def _message(direction: str, text: str | None, kind: str = "message") -> LinkedEvent:
    data = {
        "idempotency_key": f"sms:{direction}{kind}",
        "thread_id": None,
        "owner_customer_id": None,
        "type": "sms",
        "channel": "sms",
        "platform": "twilio",
        "kind": kind,
        "direction": direction,
        "content": text,
    }
    return LinkedEvent("timeline.event", "e1", "2025-11-21T10:30:00Z", None, data)


def test_the_projection_tags_and_scores_inbound_messages_only() -> None:
    row, _ = project(_message("in", "I need to cancel, terrible experience"))
    assert row.values["intent_tags"] == ["cancellation", "complaint"]
    assert row.values["sentiment"] < 0
    row, _ = project(_message("in", "¿Cuánto cuesta?"))
    assert (row.values["intent_tags"], row.values["sentiment"]) == (["pricing"], None)
    others = (_message("out", "Sorry, we have to cancel"), _message("in", None), _message("in", "x", "x"))
    for event in others:
        row, _ = project(event)
        assert (row.values["intent_tags"], row.values["sentiment"]) == (None, None)
