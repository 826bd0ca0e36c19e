"""Accent folding, shared by language detection, intent tags and name comparison."""

from __future__ import annotations

import pytest

from workers.domain.accents import without_accents


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("plain ascii, unchanged", "plain ascii, unchanged"),
        ("está", "esta"),
        ("José Müller", "Jose Muller"),
        ("ça coûte très cher", "ca coute tres cher"),
        ("ﬁesta", "fiesta"),  # a ligature is the letters it stands for
        ("ＡＢＣ", "ABC"),  # full-width letters too
        ("São Paulo ñandú", "Sao Paulo nandu"),
        ("привет", "привет"),  # no accent to drop
        ("й", "и"),  # the breve is a combining mark once decomposed
    ],
)
def test_without_accents(text: str, folded: str) -> None:
    assert without_accents(text) == folded
