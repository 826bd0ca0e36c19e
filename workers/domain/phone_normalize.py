"""Normalization of phone numbers and channel addresses to E.164, and the equivalence key.

Two layers are kept apart on purpose (see shared/reference/identity-landscape.md, points 1-3):

* the *channel address*: what a provider routes on (a WhatsApp ``wa_id``, a Twilio ``From``), kept raw,
  because the routable address can be a number libphonenumber calls invalid (nyaruka/courier #433);
* the *canonical* E.164: the key of the equivalence class one person's number belongs to. The country
  rules that fold variants together (Brazil's 9th mobile digit, Argentina's mobile ``9``, Mexico's old
  mobile ``1``) live in :func:`canonical` and nowhere else, so every lookup path applies the same ones.

The default region is always a parameter (configuration per business or channel), never a global.
:data:`NORMALIZER_VERSION` changes whenever an input can normalize differently, so stored rows can be
re-normalized.
"""

from __future__ import annotations

import enum
import functools
import unicodedata
from dataclasses import dataclass
from typing import Final

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, ValidationResult

NORMALIZER_VERSION: Final = "2026.11.1"

#: Longest raw input normalize() looks at; anything longer is not a phone number.
MAX_RAW_CHARS: Final = 64

PROVIDERS: Final = frozenset({"twilio", "ringcentral", "whatsapp", "booking_form", "meta"})


class PhoneErrorReason(enum.StrEnum):
    """Why a string is not a usable phone number; stable values, safe for metric labels."""

    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID_LENGTH = "invalid_length"
    INVALID_COUNTRY_CODE = "invalid_country_code"
    MISSING_REGION = "missing_region"
    INVALID_FOR_REGION = "invalid_for_region"
    UNKNOWN_PROVIDER = "unknown_provider"


class PhoneError(ValueError):
    """A phone number could not be normalized. The message masks the number."""

    def __init__(self, reason: PhoneErrorReason, detail: str, raw: str = "") -> None:
        self.reason = reason
        masked = mask(raw) if raw else ""
        suffix = f" ({masked})" if masked else ""
        super().__init__(f"{reason.value}: {detail}{suffix}")


def mask(raw: str) -> str:
    """Hide all but the last two digits, so errors and logs never carry a whole number."""
    digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
    keep = set(digits[-2:])
    masked = "".join(
        "*" if ch.isdigit() and i not in keep else ch for i, ch in enumerate(raw[:MAX_RAW_CHARS])
    )
    return masked if len(raw) <= MAX_RAW_CHARS else masked + "…"


# Fullwidth and other look-alike punctuation that people paste from phones set to CJK or Arabic locales.
# Every mapping is one character to one character, so positions in a translated copy stay valid.
_PUNCT_FOLD: Final = {
    "\uff0b": "+",
    "\uff08": "(",
    "\uff09": ")",
    "\uff0d": "-",
    "\uff0e": ".",
    "\uff0f": "/",
    "\u3000": " ",
    "\u00a0": " ",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u202f": " ",
    "\u2009": " ",
}


def fold_char(ch: str) -> str:
    """ASCII form of one character: any Unicode decimal digit becomes 0-9; look-alike punctuation folds."""
    if "0" <= ch <= "9" or ch < "\u0080":
        return ch
    folded = _PUNCT_FOLD.get(ch)
    if folded is not None:
        return folded
    value = unicodedata.decimal(ch, -1)
    return str(value) if value >= 0 else ch


def fold(text: str) -> str:
    """Fold digits and punctuation to ASCII, character for character (``len(fold(s)) == len(s)``)."""
    if text.isascii():
        return text
    return "".join(fold_char(ch) for ch in text)


def _e164(number: PhoneNumber) -> str:
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


_PARSE_REASONS: Final = {
    NumberParseException.INVALID_COUNTRY_CODE: PhoneErrorReason.INVALID_COUNTRY_CODE,
    NumberParseException.NOT_A_NUMBER: PhoneErrorReason.NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: PhoneErrorReason.TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: PhoneErrorReason.TOO_SHORT,
    NumberParseException.TOO_LONG: PhoneErrorReason.TOO_LONG,
}

_LENGTH_REASONS: Final = {
    ValidationResult.TOO_SHORT: PhoneErrorReason.TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: PhoneErrorReason.TOO_SHORT,
    ValidationResult.TOO_LONG: PhoneErrorReason.TOO_LONG,
    ValidationResult.INVALID_LENGTH: PhoneErrorReason.INVALID_LENGTH,
    ValidationResult.INVALID_COUNTRY_CODE: PhoneErrorReason.INVALID_COUNTRY_CODE,
}


def _parse(raw: str, region: str | None) -> PhoneNumber:
    """Parse, mapping every failure to a PhoneError; checks nothing beyond syntax."""
    if raw is None or not raw.strip():
        raise PhoneError(PhoneErrorReason.EMPTY, "no phone number given")
    if len(raw) > MAX_RAW_CHARS:
        raise PhoneError(PhoneErrorReason.TOO_LONG, f"longer than {MAX_RAW_CHARS} characters", raw)
    text = fold(raw).strip()
    if not any(ch.isdigit() for ch in text):
        raise PhoneError(PhoneErrorReason.NOT_A_NUMBER, "no digits", raw)
    region_code = region.upper() if region else None
    if region_code is not None and region_code not in phonenumbers.SUPPORTED_REGIONS:
        raise PhoneError(PhoneErrorReason.INVALID_COUNTRY_CODE, f"unknown region {region!r}")
    if region_code is None and not text.lstrip("(").startswith("+"):
        raise PhoneError(PhoneErrorReason.MISSING_REGION, "no '+' country code and no default region", raw)
    try:
        return phonenumbers.parse(text, region_code)
    except NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, PhoneErrorReason.NOT_A_NUMBER)
        raise PhoneError(reason, "cannot be read as a phone number", raw) from None


def _check_possible(number: PhoneNumber, raw: str) -> None:
    result = phonenumbers.is_possible_number_with_reason(number)
    if result != ValidationResult.IS_POSSIBLE:
        reason = _LENGTH_REASONS.get(result, PhoneErrorReason.INVALID_LENGTH)
        raise PhoneError(reason, "wrong number of digits for its country", raw)


def normalize(raw: str, region: str | None = None) -> str:
    """E.164 of a number a person typed, or :class:`PhoneError` saying why not.

    ``region`` (ISO 3166 alpha-2, e.g. the business's or channel's configured country) is used only
    when the number has no ``+``/international prefix; a ``+`` number ignores it. Extensions are
    dropped: E.164 has none. The number must be valid by libphonenumber's metadata; for provider
    addresses that may be "invalid" but real, use :func:`normalize_channel_address`.
    """
    number = _parse(raw, region)
    _check_possible(number, raw)
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(PhoneErrorReason.INVALID_FOR_REGION, "not a number in use in its country", raw)
    return _e164(number)


# --- equivalence ---------------------------------------------------------------------------------------

_BR_MOBILE_FIRST: Final = frozenset("6789")


def canonical(e164: str) -> str:
    """Equivalence-class key of an E.164 number; idempotent (``canonical(canonical(x)) == canonical(x)``).

    One place for the country rules under which two E.164 strings reach the same person:

    * Brazil (+55): mobiles gained a leading 9 (2012-2016); WhatsApp still reports many accounts
      without it. ``+55 DD 8xxx xxxx`` and ``+55 DD 98xxx xxxx`` are one line; the key has the 9.
      Landlines (subscriber starting 2-5) are untouched.
    * Argentina (+54): a mobile is dialled from abroad as ``+54 9 area number``; the same line also
      appears as ``+54 area number`` (chatwoot #13808). The key drops the ``9``: subscriber numbers
      are unique within an area code across fixed and mobile, so no two lines collide.
    * Mexico (+52): the mobile ``1`` after the country code was retired in 2019 but WhatsApp ids still
      carry it. The key drops it.

    Anything else is returned unchanged.
    """
    if not e164.startswith("+") or not e164[1:].isdigit():
        return e164
    digits = e164[1:]
    if digits.startswith("55") and len(digits) == 12 and digits[4] in _BR_MOBILE_FIRST:
        return f"+55{digits[2:4]}9{digits[4:]}"
    if digits.startswith("549") and len(digits) == 13:
        return f"+54{digits[3:]}"
    if digits.startswith("521") and len(digits) == 13:
        return f"+52{digits[3:]}"
    return e164


def equivalent(a: str, b: str) -> bool:
    """True when two E.164 numbers belong to one equivalence class (one person's line)."""
    return canonical(a) == canonical(b)


# --- channel addresses ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelAddress:
    """A provider's address for a person: the raw routable form, its E.164 and the equivalence key.

    ``raw`` is stored as received (it is what a reply must be sent to), ``e164`` is that same address
    written as E.164 (which may be a form libphonenumber calls invalid, such as a Brazilian WhatsApp id
    without the 9th digit), and ``canonical`` is :func:`canonical` of it: the key for customer lookup.
    """

    raw: str
    e164: str
    canonical: str
    provider: str
    normalizer_version: str = NORMALIZER_VERSION


_SCHEMES: Final = ("whatsapp:", "tel:", "sms:", "mms:")


def _strip_scheme(raw: str) -> str:
    text = raw.strip()
    lowered = text.lower()
    for scheme in _SCHEMES:
        if lowered.startswith(scheme):
            return text[len(scheme) :].strip()
    return text


def _attested(raw: str, text: str, region: str | None) -> str:
    """E.164 of a provider-attested address: length must be possible, validity is not required.

    A provider delivered a message from this address, so it exists; libphonenumber's validity tables
    lag reality (and WhatsApp keeps pre-migration forms). We accept a possible-length number, or one
    whose canonical form is valid.
    """
    number = _parse(text, region)
    e164 = _e164(number)
    if phonenumbers.is_valid_number(number):
        return e164
    key = canonical(e164)
    if key != e164:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(key, None)):
                return e164
        except NumberParseException:
            pass
    _check_possible(number, raw)
    return e164


# Customers write again and again from the same address, and parsing one costs libphonenumber
# ~50 us: remember the answers (the result is immutable; a refusal raises again each time).
@functools.lru_cache(maxsize=65536)
def normalize_channel_address(raw: str, provider: str, region: str | None = None) -> ChannelAddress:
    """Normalize an address exactly as a provider sends it.

    * ``whatsapp`` / ``meta``: ``wa_id`` is digits with the country code and no ``+``
      (``"5511987654321"``); a ``+`` or ``whatsapp:`` prefix is tolerated.
    * ``twilio``: ``From``/``To`` in E.164, with ``whatsapp:`` on the WhatsApp channel.
    * ``ringcentral``: ``phoneNumber`` in E.164.
    * ``booking_form``: whatever the customer typed; ``region`` is the business's default and the
      number must be valid (nobody attested it).
    """
    if provider not in PROVIDERS:
        raise PhoneError(PhoneErrorReason.UNKNOWN_PROVIDER, f"unknown provider {provider!r}")
    if raw is None or not str(raw).strip():
        raise PhoneError(PhoneErrorReason.EMPTY, "no address given")
    text = _strip_scheme(fold(raw))
    if provider == "booking_form":
        e164 = normalize(text, region)
    else:
        if provider in {"whatsapp", "meta"}:
            bare = text.lstrip("+")
            if not bare.isdigit():
                raise PhoneError(PhoneErrorReason.NOT_A_NUMBER, "a wa_id is digits only", raw)
            text = "+" + bare
        elif not text.startswith("+") and text.isdigit() and region is None and len(text) > 10:
            # Some senders drop the '+' of an E.164 address; with no region, read it as international.
            text = "+" + text
        e164 = _attested(raw, text, region)
    return ChannelAddress(raw=raw, e164=e164, canonical=canonical(e164), provider=provider)
