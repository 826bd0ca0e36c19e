"""A fast path for "is this digit string a valid number, and what is its E.164?".

``phonenumbers.parse`` followed by ``is_valid_number`` costs about 17 µs per candidate, mostly in
generic work (normalizing arbitrary input, compiling-cache lookups for a dozen patterns, building
objects). Extraction hands over strings that are already ASCII digits with at most a leading ``+``,
so this module answers the same question from the same metadata with precompiled patterns, in a
few microseconds. It follows libphonenumber's own steps: international prefix, country calling
code, national prefix (via phonenumbers' own helper), region choice among regions sharing a
calling code, then the per-type patterns.

Whenever the input leaves the common road (a national number that begins with its own country
code, a non-geographic calling code, no metadata), it answers :data:`UNSURE` and the caller uses
``phonenumbers`` itself. ``tests/unit/test_phone_extract.py`` checks that both agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import phonenumbers
from phonenumbers import PhoneMetadata, ValidationResult, phonenumberutil

#: Returned when the fast path cannot decide; call phonenumbers instead.
UNSURE: Final = "?"

_TYPE_FIELDS: Final = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_MIN_NSN: Final = 2
_MAX_NSN: Final = 17
_NOT_KEPT: Final = (
    ValidationResult.TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ValidationResult.INVALID_LENGTH,
)


@dataclass(frozen=True)
class _Region:
    code: str
    metadata: PhoneMetadata
    idd: re.Pattern[str] | None
    leading: re.Pattern[str] | None
    general: tuple[re.Pattern[str], frozenset[int]]
    types: tuple[tuple[re.Pattern[str], frozenset[int]], ...]

    def matches(self, nsn: str) -> bool:
        """libphonenumber's "number type is not UNKNOWN" for this region."""
        pattern, lengths = self.general
        if (lengths and len(nsn) not in lengths) or not pattern.fullmatch(nsn):
            return False
        return any((not lens or len(nsn) in lens) and pat.fullmatch(nsn) for pat, lens in self.types)


_REGIONS: dict[str, _Region | None] = {}


def _desc(desc: object, general_lengths: frozenset[int]) -> tuple[re.Pattern[str], frozenset[int]] | None:
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = tuple(getattr(desc, "possible_length", None) or ())
    if lengths and lengths[0] == -1:
        return None
    return re.compile(pattern), frozenset(lengths) if lengths else general_lengths


def _type_desc(desc: object) -> tuple[re.Pattern[str], frozenset[int]] | None:
    """A type's pattern; no lengths means no length check (libphonenumber's _is_number_matching_desc)."""
    return _desc(desc, frozenset())


def _region(code: str) -> _Region | None:
    if code in _REGIONS:
        return _REGIONS[code]
    metadata = PhoneMetadata.metadata_for_region(code)
    region: _Region | None = None
    if metadata is not None and metadata.general_desc is not None:
        general = _desc(metadata.general_desc, frozenset())
        if general is not None:
            types = tuple(
                d
                for d in (_type_desc(getattr(metadata, name, None)) for name in _TYPE_FIELDS)
                if d is not None
            )
            region = _Region(
                code=code,
                metadata=metadata,
                idd=re.compile(metadata.international_prefix) if metadata.international_prefix else None,
                leading=re.compile(metadata.leading_digits) if metadata.leading_digits else None,
                general=general,
                types=types,
            )
    _REGIONS[code] = region
    return region


def warm_up() -> None:
    """Compile the patterns of every region once, at start."""
    for code in phonenumbers.SUPPORTED_REGIONS:
        _region(code)


def _strip_national_prefix(nsn: str, region: _Region) -> str:
    _, stripped, did_strip = phonenumberutil._maybe_strip_national_prefix_carrier_code(nsn, region.metadata)
    if not did_strip:
        return nsn
    result = phonenumberutil._test_number_length(stripped, region.metadata)
    return nsn if result in _NOT_KEPT else stripped


def fast_e164(digits: str, plus: bool, region_code: str | None) -> tuple[str, bool] | str | None:
    """``(e164, valid)`` as libphonenumber would read the digits; None when they are no number at all;
    :data:`UNSURE` when phonenumbers must decide.

    ``digits`` are ASCII digits only; ``plus`` says the text had a leading '+'.
    """
    default = _region(region_code) if region_code else None
    if not plus:
        if default is None:
            return None if region_code is None else UNSURE
        if default.idd is not None:
            idd = default.idd.match(digits)
            if idd is not None and idd.end() < len(digits) and digits[idd.end()] != "0":
                digits = digits[idd.end() :]
                plus = True
    if plus:
        if digits[:1] == "0":
            return None  # no calling code begins with 0
        for size in (1, 2, 3):
            code = int(digits[:size]) if len(digits) >= size else 0
            if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return None
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]
        nsn = digits[size:]
        main = _region(regions[0])
        if main is None:
            return UNSURE  # non-geographic calling codes (800, 870, ...)
    else:
        assert default is not None
        code = int(default.metadata.country_code or 0)
        if digits.startswith(str(code)):
            return UNSURE  # maybe a country code typed without '+': phonenumbers' own heuristics
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ())
        main = default
        nsn = digits
    nsn = _strip_national_prefix(nsn, main)
    if len(nsn) < _MIN_NSN or len(nsn) > _MAX_NSN:
        return None
    chosen = _choose_region(regions, nsn)
    return f"+{code}{nsn}", chosen is not None and chosen.matches(nsn)


def _choose_region(regions: tuple[str, ...] | list[str], nsn: str) -> _Region | None:
    """libphonenumber's region for a number of a shared calling code: leading digits, then patterns."""
    if len(regions) == 1:
        return _region(regions[0])
    for code in regions:
        region = _region(code)
        if region is None:
            continue
        if region.leading is not None:
            if region.leading.match(nsn):
                return region
        elif region.matches(nsn):
            return region
    return None
