"""A fast path for "is this digit string a valid number, and what is its E.164?".

``phonenumbers.parse`` followed by ``is_valid_number`` costs about 17 µs per candidate, mostly in
generic work (normalizing arbitrary input, pattern-cache lookups for a dozen patterns, building
objects). Extraction hands over strings that are already ASCII digits with at most a leading ``+``,
so this module answers the same question from the same metadata with patterns compiled once, in a
couple of microseconds. It follows libphonenumber's own steps, in its order: international prefix,
country calling code (with '+', after an international prefix, or the default region's own code
typed without '+'), national prefix and carrier code, region choice among regions sharing a calling
code, then the per-type patterns.

Whenever the input leaves the common road (a non-geographic calling code, a region without
metadata), it answers :data:`UNSURE` and the caller uses ``phonenumbers`` itself.
``tests/unit/test_phone_fastparse.py`` checks that both agree, on every supported region.
"""

from __future__ import annotations

import re
from typing import Final

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberDesc

#: Returned when the fast path cannot decide; call phonenumbers instead.
UNSURE: Final = "?"

# The most common types first: only "does any type match" matters here, and most numbers people
# write are fixed lines or mobiles, so the rarer patterns are usually never tried.
_TYPE_FIELDS: Final = (
    "fixed_line",
    "mobile",
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)
# libphonenumber's _MIN_LENGTH_FOR_NSN and _MAX_LENGTH_FOR_NSN.
_MIN_NSN: Final = 2
_MAX_NSN: Final = 17

_Desc = tuple[re.Pattern[str], frozenset[int]]


class _Region:
    """One region's metadata, compiled once. Field names follow phonenumbers' PhoneMetadata."""

    __slots__ = (
        "code",
        "country_code",
        "country_code_str",
        "general",
        "general_lengths",
        "idd",
        "leading",
        "local_lengths",
        "national_prefix",
        "possible_lengths",
        "transform",
        "types",
    )

    def __init__(self, code: str, metadata: PhoneMetadata, general_desc: PhoneNumberDesc) -> None:
        self.code = code
        self.country_code = int(metadata.country_code or 0)
        self.country_code_str = str(self.country_code)
        self.idd = re.compile(metadata.international_prefix) if metadata.international_prefix else None
        self.leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
        prefix = metadata.national_prefix_for_parsing
        self.national_prefix = re.compile(prefix) if prefix else None
        self.transform: str | None = metadata.national_prefix_transform_rule or None
        self.general = re.compile(general_desc.national_number_pattern or "")
        lengths = tuple(general_desc.possible_length or ())
        self.possible_lengths = lengths
        self.general_lengths = frozenset(lengths)
        self.local_lengths = frozenset(general_desc.possible_length_local_only or ())
        types: list[_Desc] = []
        for name in _TYPE_FIELDS:
            desc = _type_desc(getattr(metadata, name, None))
            if desc is not None and desc not in types:  # fixed line and mobile often share a pattern
                types.append(desc)
        self.types = tuple(types)

    def matches(self, nsn: str) -> bool:
        """libphonenumber's "number type is not UNKNOWN" (``_number_type_helper``) for this region."""
        if (self.general_lengths and len(nsn) not in self.general_lengths) or not self.general.fullmatch(nsn):
            return False
        size = len(nsn)
        for pattern, lengths in self.types:
            if (not lengths or size in lengths) and pattern.fullmatch(nsn):
                return True
        return False

    def too_long(self, number: str) -> bool:
        """libphonenumber's ``_test_number_length(number, metadata) == TOO_LONG``."""
        size = len(number)
        lengths = self.possible_lengths
        return bool(lengths) and size not in self.local_lengths and size > lengths[0] and size > lengths[-1]

    def possible_enough(self, number: str) -> bool:
        """libphonenumber's ``_test_number_length`` is not TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY or
        INVALID_LENGTH: the test ``parse`` applies before keeping a stripped national prefix."""
        size = len(number)
        if size in self.local_lengths:
            return False
        lengths = self.possible_lengths
        if not lengths:  # pragma: no cover - every region's general description has lengths
            return False
        if size == lengths[0]:
            return True
        if size < lengths[0]:
            return False
        return size > lengths[-1] or size in self.general_lengths

    def strip_national_prefix(self, number: str) -> str:
        """libphonenumber's ``_maybe_strip_national_prefix_carrier_code``: the number without its
        national prefix (and carrier code), or unchanged when stripping would spoil a viable number."""
        if not number or self.national_prefix is None:
            return number
        match = self.national_prefix.match(number)
        if match is None:
            return number
        viable = self.general.fullmatch(number) is not None
        groups = match.groups()
        if self.transform is None or groups[-1] is None:
            stripped = number[match.end() :]
        else:
            stripped = self.national_prefix.sub(self.transform, number, count=1)
        if viable and self.general.fullmatch(stripped) is None:
            return number
        return stripped


def _type_desc(desc: object) -> _Desc | None:
    """A type's pattern and lengths; no lengths means no length check (``_is_number_matching_desc``);
    a type the region does not have (no pattern, or the length -1) is left out."""
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    lengths = tuple(getattr(desc, "possible_length", None) or ())
    if lengths and lengths[0] == -1:
        return None
    return re.compile(pattern), frozenset(lengths)


_REGIONS: dict[str, _Region | None] = {}
# Calling code as typed (its digits) -> (code, regions sharing it, main first).
_CALLING_CODES: Final = {
    str(code): (code, tuple(regions)) for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
}


def _region(code: str) -> _Region | None:
    region = _REGIONS.get(code, _MISSING)
    if region is not _MISSING:
        return region  # type: ignore[return-value]
    metadata = PhoneMetadata.metadata_for_region(code)
    built: _Region | None = None
    general = metadata.general_desc if metadata is not None else None
    if metadata is not None and general is not None and general.national_number_pattern:
        built = _Region(code, metadata, general)
    _REGIONS[code] = built
    return built


_MISSING: Final = object()


def warm_up() -> None:
    """Compile the patterns of every region once, at start."""
    for code in phonenumbers.SUPPORTED_REGIONS:
        _region(code)


def _after_idd(digits: str, region: _Region) -> str | None:
    """The digits after the region's international prefix ("011", "00"), or None when there is none.
    libphonenumber keeps a prefix followed by 0 as part of the number: no calling code begins with 0."""
    if region.idd is None:
        return None
    idd = region.idd.match(digits)
    if idd is None or digits[idd.end() : idd.end() + 1] == "0":
        return None
    return digits[idd.end() :]


def _calling_code(digits: str) -> tuple[int, tuple[str, ...]] | None:
    """The calling code the digits begin with (1 to 3 digits, shortest first) and its regions."""
    return _CALLING_CODES.get(digits[:1]) or _CALLING_CODES.get(digits[:2]) or _CALLING_CODES.get(digits[:3])


def fast_e164(digits: str, plus: bool, region_code: str | None) -> tuple[str, bool] | str | None:
    """``(e164, valid)`` as libphonenumber would read the digits; None when they are no number at all;
    :data:`UNSURE` when phonenumbers must decide.

    ``digits`` are ASCII digits only; ``plus`` says the text had a leading '+'. The answer is
    ``phonenumbers.parse(("+" if plus else "") + digits, region_code)`` formatted as E.164, with
    ``is_valid_number`` of it (None where ``parse`` raises).
    """
    # _region, inlined for the usual case: a region already built
    default = (_REGIONS.get(region_code) or _region(region_code)) if region_code else None
    international = plus
    if not plus:
        if default is None:
            return None if region_code is None else UNSURE
        after_idd = _after_idd(digits, default)
        if after_idd is not None:
            digits, international = after_idd, True
    if international:
        if len(digits) <= _MIN_NSN:
            return None  # too short after the '+' or international prefix
        entry = _calling_code(digits)
        if entry is None and plus and default is not None:
            # "+011 44 ...": libphonenumber drops the '+' and tries the region's international prefix.
            after_idd = _after_idd(digits, default)
            if after_idd is None or len(after_idd) <= _MIN_NSN:
                return None
            digits = after_idd
            entry = _calling_code(digits)
        if entry is None:
            return None  # no such calling code
        code, regions = entry
        main = _region(regions[0])
        if main is None:
            return UNSURE  # non-geographic calling codes (800, 870, ...)
        nsn = digits[len(str(code)) :]
    else:
        assert default is not None
        code = default.country_code
        shared = _CALLING_CODES.get(default.country_code_str)
        if shared is None:  # pragma: no cover - every supported region's calling code is in the map
            return UNSURE
        regions = shared[1]
        main = default
        nsn = digits
        if digits.startswith(default.country_code_str):
            # The region's own calling code typed without '+' ("1 415 555 0123" in the US). Keep it as
            # a calling code when the rest reads better than the whole, as libphonenumber does.
            rest = default.strip_national_prefix(digits[len(default.country_code_str) :])
            whole_fits = default.general.fullmatch(digits) is not None
            if (not whole_fits and default.general.fullmatch(rest) is not None) or default.too_long(digits):
                nsn = rest
                main = _region(regions[0])
                if main is None:  # pragma: no cover - a region's own calling code always has metadata
                    return UNSURE
    if len(nsn) < _MIN_NSN:
        return None
    stripped = main.strip_national_prefix(nsn)
    if stripped != nsn and main.possible_enough(stripped):
        nsn = stripped
    if len(nsn) < _MIN_NSN or len(nsn) > _MAX_NSN:
        return None
    return f"+{code}{nsn}", _valid_in(code, regions, nsn)


_SHARING: dict[int, tuple[_Region, ...]] = {}


def _valid_in(code: int, regions: tuple[str, ...], nsn: str) -> bool:
    """libphonenumber's ``is_valid_number``: choose the region among those sharing the calling code
    (leading digits, else full patterns), then check the number against that region's patterns."""
    sharing = _SHARING.get(code)
    if sharing is None:  # built once per calling code: its regions that have metadata, in order
        sharing = _SHARING[code] = tuple(r for r in map(_region, regions) if r is not None)
    if len(regions) == 1:  # a calling code of one region is that region, whatever its leading digits
        return bool(sharing) and sharing[0].matches(nsn)
    for region in sharing:
        if region.leading is not None:
            if region.leading.match(nsn):
                return region.matches(nsn)
        elif region.matches(nsn):
            return True
    return False
