"""Phone numbers for customer identity: the public facade of the pure phone core.

Normalization (:mod:`workers.domain.phone_normalize`) turns what people and providers send into E.164
and the equivalence key; extraction (:mod:`workers.domain.phone_extract`) finds numbers in free text
and says whose they are, with the words that decide in :mod:`workers.domain.phone_cue_words` (read by
:mod:`workers.domain.phone_cues`) and the shapes of non-phones in :mod:`workers.domain.phone_identifiers`.
Import from here. Imports only the standard library and ``phonenumbers``.

Call :func:`warm_up` once at process start so no message pays for loading metadata.
"""

from __future__ import annotations

import phonenumbers

from workers.domain import phone_cues, phone_fastparse
from workers.domain.phone_extract import (
    DEFAULT_MAX_TRIES,
    MAX_TEXT_CHARS,
    Candidate,
    ExtractionContext,
    Owner,
    extract,
)
from workers.domain.phone_normalize import (
    NORMALIZER_VERSION,
    PROVIDERS,
    ChannelAddress,
    PhoneError,
    PhoneErrorReason,
    canonical,
    equivalent,
    mask,
    normalize,
    normalize_channel_address,
)

__all__ = [
    "DEFAULT_MAX_TRIES",
    "MAX_TEXT_CHARS",
    "NORMALIZER_VERSION",
    "PROVIDERS",
    "Candidate",
    "ChannelAddress",
    "ExtractionContext",
    "Owner",
    "PhoneError",
    "PhoneErrorReason",
    "canonical",
    "equivalent",
    "extract",
    "mask",
    "normalize",
    "normalize_channel_address",
    "warm_up",
]


def warm_up() -> None:
    """Load every region's metadata now rather than on the first message that needs it."""
    phonenumbers.PhoneMetadata.load_all()
    phone_fastparse.warm_up()
    phone_cues.warm_up()
