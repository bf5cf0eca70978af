"""libphonenumber's numbering plan, compiled once per calling code: a number's region and type in one pass.

phonenumbers answers `region_code_for_number` and `number_type` by walking its metadata on every call:
each pattern looked up in a cache of compiled regexes by its text, and the region decided again inside
`number_type` (for +44 or +1 that is every region's type check twice). A first sighting of a number cost
about 70 µs, most of what enriching a call with a new number costs. Here the same metadata (its public
`PhoneMetadata`, nothing private) is turned once into compiled patterns per region, and the same rules are
applied in the same order: `tests/unit/test_enrich_numbering.py` holds every result equal to phonenumbers'
own over the metadata's example numbers of every region and type and over random numbers of every
calling code.

The plain international form (`+` and digits, what SIP trunks and the parsers write) is read here too;
anything else (national forms, separators, letters, a number that starts like a national prefix) goes to
`phonenumbers.parse`, which stays the reference.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumber, PhoneNumberType

_MAX_COUNTRY_CODE_DIGITS = 3  # libphonenumber's _MAX_LENGTH_COUNTRY_CODE
_MIN_NSN_DIGITS = 2  # _MIN_LENGTH_FOR_NSN
_MAX_NSN_DIGITS = 17  # _MAX_LENGTH_FOR_NSN
_PLAIN_INTERNATIONAL = re.compile(r"\+[1-9][0-9]{2,19}")

Matcher = Callable[[str], bool]


def _desc(desc: object) -> Matcher | None:
    """phonenumbers' `_is_number_matching_desc` for one description: its lengths, then its whole pattern."""
    pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
    if not pattern:
        return None  # no description or no pattern: matches nothing
    full = re.compile(pattern).fullmatch
    lengths = frozenset(getattr(desc, "possible_length", ()) or ())
    if not lengths:
        return lambda nsn: full(nsn) is not None
    return lambda nsn: len(nsn) in lengths and full(nsn) is not None


def _first_of(descs: Sequence[tuple[int, object]]) -> Callable[[str], int | None] | None:
    """The kind of the first description (in order) that a national number matches, None if none does: one
    regex of the descriptions as alternatives, each its lengths (a lookahead) and its pattern, tried in order by
    `fullmatch` as `_one_by_one` tries them. None when the patterns do not combine (a group reference)."""
    alternatives: list[str] = []
    kinds: dict[str, int] = {}
    for kind, desc in descs:
        pattern = getattr(desc, "national_number_pattern", None) if desc is not None else None
        if not pattern:
            continue
        if re.search(r"\\[1-9]|\(\?P[<=]", pattern):
            return None
        given = getattr(desc, "possible_length", ()) or ()
        lengths = sorted(n for n in given if n > 0)
        if given and not lengths:  # no possible length: the description matches nothing
            continue
        check = f"(?=(?:{'|'.join(f'.{{{n}}}' for n in lengths)})\\Z)" if lengths else ""
        name = f"k{len(alternatives)}"
        kinds[name] = kind
        alternatives.append(f"(?P<{name}>{check}(?:{pattern}))")
    if not alternatives:
        return lambda nsn: None
    try:
        full = re.compile("|".join(alternatives), re.DOTALL).fullmatch
    except re.error:
        return None

    def first(nsn: str) -> int | None:
        found = full(nsn)
        return kinds[found.lastgroup] if found is not None and found.lastgroup is not None else None
    return first


def _one_by_one(descs: Sequence[tuple[int, object]]) -> Callable[[str], int | None]:
    """The kind of the first description (in order) that a national number matches, each tried by `_desc`."""
    matchers = tuple((kind, matches) for kind, desc in descs if (matches := _desc(desc)) is not None)
    return lambda nsn: next((kind for kind, matches in matchers if matches(nsn)), None)


class _Region(NamedTuple):
    code: str
    leading_digits: re.Pattern[str] | None
    general: Matcher | None
    special: Callable[[str], int | None]  # which of premium rate ... voicemail (phonenumbers' order), if any
    fixed_line: Matcher | None
    mobile: Matcher | None
    same_mobile_and_fixed_line: bool

    def number_type(self, nsn: str) -> int:
        """phonenumbers' `_number_type_helper`, step for step."""
        if self.general is None or not self.general(nsn):
            return PhoneNumberType.UNKNOWN
        if (kind := self.special(nsn)) is not None:
            return kind
        if self.fixed_line is not None and self.fixed_line(nsn):
            if self.same_mobile_and_fixed_line or (self.mobile is not None and self.mobile(nsn)):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not self.same_mobile_and_fixed_line and self.mobile is not None and self.mobile(nsn):
            return PhoneNumberType.MOBILE
        return PhoneNumberType.UNKNOWN


def _specials(metadata: PhoneMetadata) -> list[tuple[int, object]]:
    """The special types' descriptions, in the order phonenumbers tries them."""
    return [(PhoneNumberType.PREMIUM_RATE, metadata.premium_rate), (PhoneNumberType.TOLL_FREE, metadata.toll_free),
            (PhoneNumberType.SHARED_COST, metadata.shared_cost), (PhoneNumberType.VOIP, metadata.voip),
            (PhoneNumberType.PERSONAL_NUMBER, metadata.personal_number), (PhoneNumberType.PAGER, metadata.pager),
            (PhoneNumberType.UAN, metadata.uan), (PhoneNumberType.VOICEMAIL, metadata.voicemail)]


def _region(code: str, metadata: PhoneMetadata) -> _Region:
    specials = _specials(metadata)
    leading = re.compile(metadata.leading_digits) if metadata.leading_digits is not None else None
    return _Region(code, leading, _desc(metadata.general_desc), _first_of(specials) or _one_by_one(specials),
                   _desc(metadata.fixed_line), _desc(metadata.mobile),
                   bool(metadata.same_mobile_and_fixed_line_pattern))


class _CallingCode(NamedTuple):
    regions: tuple[_Region, ...]  # in phonenumbers' order (the main region first)
    national_prefix: re.Pattern[str] | None  # the main region's national_prefix_for_parsing
    possible_lengths: frozenset[int]  # the main region's general lengths (`is_possible_number` asks only it)


class NumberingPlan:
    """Region and type of parsed numbers; calling codes compiled when first seen (a worker sees a few)."""

    def __init__(self) -> None:
        self._codes: dict[int, _CallingCode | None] = {}

    def _calling_code(self, country_code: int) -> _CallingCode | None:
        try:
            return self._codes[country_code]
        except KeyError:
            pass
        compiled = None
        codes = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
        if codes:
            regions = []
            for code in codes:
                metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, code.upper())
                if metadata is not None:
                    regions.append(_region(code, metadata))
            main = PhoneMetadata.metadata_for_region_or_calling_code(
                country_code, phonenumbers.region_code_for_country_code(country_code))
            prefix = main.national_prefix_for_parsing if main is not None else None
            general = main.general_desc if main is not None else None
            lengths = frozenset(general.possible_length or ()) if general is not None else frozenset()
            compiled = _CallingCode(tuple(regions), re.compile(prefix) if prefix else None, lengths)
        self._codes[country_code] = compiled
        return compiled

    def classify(self, number: PhoneNumber) -> tuple[str | None, int]:
        """(`region_code_for_number`, `number_type`) of phonenumbers, deciding the region once."""
        code = self._calling_code(number.country_code or 0)
        if code is None or not code.regions:
            return None, PhoneNumberType.UNKNOWN
        nsn = phonenumbers.national_significant_number(number)
        regions = code.regions
        if len(regions) == 1:
            return regions[0].code, regions[0].number_type(nsn)
        for region in regions:
            if region.leading_digits is not None:
                if region.leading_digits.match(nsn):
                    return region.code, region.number_type(nsn)
            elif (kind := region.number_type(nsn)) != PhoneNumberType.UNKNOWN:
                return region.code, kind
        return None, PhoneNumberType.UNKNOWN

    def is_valid(self, number: PhoneNumber) -> bool:
        """`phonenumbers.is_valid_number`: a region, and a type known there."""
        region, kind = self.classify(number)
        return region is not None and kind != PhoneNumberType.UNKNOWN

    def is_possible(self, number: PhoneNumber) -> bool:
        """`phonenumbers.is_possible_number_with_reason(number) == IS_POSSIBLE`: the national number's length is
        one of the general lengths of its calling code's main region (the local-only lengths, which phonenumbers
        answers IS_POSSIBLE_LOCAL_ONLY, are never among them)."""
        code = self._calling_code(number.country_code or 0)
        return code is not None and len(phonenumbers.national_significant_number(number)) in code.possible_lengths

    def parse(self, text: str, region: str | None) -> PhoneNumber:
        """`phonenumbers.parse(text, region)` (raising its NumberParseException), the plain '+digits' form read
        here."""
        number = self.parse_international(text)
        return number if number is not None else phonenumbers.parse(text, region)

    def parse_international(self, compact: str) -> PhoneNumber | None:
        """What `phonenumbers.parse` gives for '+' and digits, when no national prefix can be in the way;
        None: ask phonenumbers (other forms, a leading 0, a national prefix, an unknown calling code)."""
        if _PLAIN_INTERNATIONAL.fullmatch(compact) is None:
            return None
        digits = compact[1:]
        for size in range(1, _MAX_COUNTRY_CODE_DIGITS + 1):
            country_code = int(digits[:size])
            if country_code in COUNTRY_CODE_TO_REGION_CODE:
                break
        else:
            return None
        national = digits[size:]
        if not _MIN_NSN_DIGITS <= len(national) <= _MAX_NSN_DIGITS or national[0] == "0":
            return None  # too short or long (phonenumbers raises), or an Italian-style leading zero
        code = self._calling_code(country_code)
        if code is None or (code.national_prefix is not None and code.national_prefix.match(national)):
            return None  # phonenumbers may strip a national prefix here: its rules, not ours
        return PhoneNumber(country_code=country_code, national_number=int(national))
