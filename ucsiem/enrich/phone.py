"""Caller and callee numbers: E.164, country, number type and international or not (issue 8).

Toll fraud (International Revenue Share Fraud) is the main UC threat this serves: calls to premium-rate
numbers, to non-geographic networks (+881 satellite, +882/+883) and to Caribbean NANP numbers that look
domestic to a US PBX (+1 876 Jamaica is region JM, so it is international from US). The numbering facts
come from Google's libphonenumber metadata (`phonenumbers`); nothing here hard-codes a range.

Log content is hostile: every value is bounded before it reaches phonenumbers, and `PhoneEnricher.enrich`
never raises. A value that looks like a number but is not valid is kept as sent and tagged, never dropped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import unquote

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from ucsiem.codegen import ObjectReads, generated
from ucsiem.enrich.config import PhoneConfig
from ucsiem.enrich.numbering import NumberingPlan

# Up to this many digits without '+' or phone-context: an extension or a short code (112, *-codes), not a number.
EXTENSION_MAX_DIGITS = 6
# E.164 allows 15 digits; an international prefix ('011') and a trunk prefix add a few. More is junk.
_MAX_DIGITS = 20
# Longer values are judged by their start only and are not cached (a 1 MB field must not sit in the cache).
_MAX_LEN = 256
# Without '+', a number invalid at home is retried as international only from this length: a 7-digit local
# dial in the US must not become Niue (+683) and look like toll fraud.
_BARE_INTERNATIONAL_MIN_DIGITS = 10

TAG_INVALID = "phone_invalid"
TAG_ERROR = "phone_enrich_error"

_TYPE_NAMES: dict[int, str] = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

# Visual separators people and PBXs put in numbers (tel: URIs allow '-', '.', '(', ')').
_SEPARATORS = str.maketrans("", "", " \t\u00a0\u2007\u2009\u202f-.()/[]")
_ASCII_NUMBER = re.compile(r"\+?[0-9]+")
# 'sip:1234@host...' with no name-addr: an extension's URI (what `_extract` and `_parse` find in it, sooner)
_SIP_EXTENSION = re.compile(f"sips?:[0-9]{{1,{EXTENSION_MAX_DIGITS}}}@[^<]*", re.IGNORECASE | re.DOTALL)
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]+)?")
# '+' and digits, bare or as the user of a SIP/SIPS URI (what trunks and the parsers write): `_parse`'s steps
# leave such a value as it is (no name-addr, parameters, separators or extension), so it is read at once
_INTERNATIONAL = re.compile(f"(?:(?i:sips?):)?(\\+[0-9]{{1,{_MAX_DIGITS}}})(?:@[^<]*)?", re.DOTALL)
# "+1 202 555 0100 x123", "... ext. 12", "...#12": directory numbers carry extensions; E.164 has none.
_EXTENSION_SUFFIX = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*[0-9]{1,7}$", re.IGNORECASE)


class NumberInfo(NamedTuple):
    e164: str | None  # "+4930123456" for a valid or possible number, else None
    region: str | None  # ISO 3166 region ("DE", "JM"), or "001" for non-geographic (+800, +881, +882, +883...)
    number_type: str | None  # premium_rate, toll_free, shared_cost, mobile, fixed_line, ... unknown
    international: bool | None  # region differs from the home region (NANP: by region, +1 876 is JM)
    valid: bool  # phonenumbers.is_valid_number


# Looks like a number, but no usable number in it (too long, non-ASCII digits, junk, unparseable).
_INVALID = NumberInfo(None, None, None, None, False)


def _number_like(text: str) -> bool:
    """Starts like a number and is mostly digits (any script): worth a phone_invalid tag, not a user name."""
    body = text.lstrip("+")
    if not body or not body[0].isdecimal():
        return False
    digits = sum(1 for c in body if c.isdecimal())
    return digits * 2 >= len(body)


def _plain_extension(value: str) -> bool:
    """Digits of an extension, bare or as 'sip:1234@host': the most common value by far, decided at once
    (what `PhoneAnalyzer._parse` decides for them after its general steps)."""
    return (len(value) <= EXTENSION_MAX_DIGITS and value.isdigit() and value.isascii()) or (
        _SIP_EXTENSION.fullmatch(value) is not None)


def _extract(value: str) -> tuple[str, str | None]:
    """The dialable part of a raw number, SIP/SIPS or tel: URI, and the RFC 3966 phone-context if any."""
    text = value.strip()
    if "<" in text:  # name-addr: '"Alice" <sip:+49...@host>'; the last '<', as a display name can hold one
        inner = text.rsplit("<", 1)[1]
        text = inner.split(">", 1)[0].strip()
    scheme = text[:5].lower()
    params = ""
    if scheme.startswith(("sip:", "tel:")) or scheme == "sips:":
        rest = text[5:] if scheme == "sips:" else text[4:]
        if scheme.startswith("tel:"):
            text, _, params = rest.partition(";")
        else:
            # userinfo ends at '@'; no '@' means host only (still a number for PBXs that log 'sip:4930...').
            user = rest.split("@", 1)[0]
            user, _, params = user.partition(";")  # user parameters: ';phone-context=+49'
            text = user.split(":", 1)[0]  # 'user:password@host'
        if "%" in text:  # '%2B4930...' is '+4930...'
            text = unquote(text)
    context = None
    if params:
        for param in params.split(";"):
            if param[:14].lower() == "phone-context=":
                context = param[14:]
    return text.strip(), context


class PhoneAnalyzer:
    """Number facts relative to a home region, cached per value (the same numbers repeat in UC logs)."""

    def __init__(self, home_region: str, cache_size: int = 32_768) -> None:
        self.home_region = home_region.upper()
        self._plan = NumberingPlan()  # phonenumbers' rules, compiled: a new number costs a tenth
        self._cached = functools.lru_cache(maxsize=cache_size)(self._analyze)
        self._cached_e164 = functools.lru_cache(maxsize=cache_size)(self._e164)
        # `analyze` of a str of at most _MAX_LEN characters, without its Python frame: the cache itself (a hit,
        # most of the values of every event, is one C call)
        self.analyze_short: Callable[[str], NumberInfo | None] = self._cached

    def analyze(self, value: str) -> NumberInfo | None:
        """None when the value holds no phone number (user name, alias, extension, non-numeric SIP user)."""
        if not isinstance(value, str):
            return None
        if len(value) > _MAX_LEN:
            # Judge by the start, uncached: bounded work and memory for hostile values.
            return _INVALID if _number_like(value.strip()[:_MAX_LEN]) else None
        return self._cached(value)

    def normalize(self, value: str) -> str | None:
        """E.164 for identity keys ('0049 30 ...', '+49 30 ...', '030 ...' at home DE meet), None if not a number.

        Cheaper than `analyze` (no region or type: a directory of 100,000 numbers is normalised at every
        refresh), and the same E.164 for every valid number."""
        if not isinstance(value, str) or len(value) > _MAX_LEN:
            return None
        return self._cached_e164(value)

    def _e164(self, value: str) -> str | None:
        parsed = self._parse(value)
        if parsed is None or isinstance(parsed, NumberInfo):
            return None
        number, plus, digits = parsed
        if not plus and not self._plan.is_valid(number):
            number, _ = self._retry_international(digits, number)
        if not self._plan.is_possible(number):
            return None
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)

    def _parse(self, value: str) -> tuple[phonenumbers.PhoneNumber, bool, str] | NumberInfo | None:
        """(number, dialled with '+', its digits); None: no number at all; _INVALID: looks like one, is not."""
        if _plain_extension(value):
            return None
        if (international := _INTERNATIONAL.fullmatch(value)) is not None:
            compact = international[1]  # what the steps below make of it, at once
            return self._compact_number(compact, True, compact[1:])
        text, context = _extract(value)
        if text[:1].isalpha():  # 'alice', 'sip:bob.jones@host': what follows could only end in None, at more cost
            return None
        if _IPV4.fullmatch(text):  # 'sip:10.0.0.1', IP-dialled calls: dotted digits, not a number
            return None
        text = _EXTENSION_SUFFIX.sub("", text)
        compact = text.translate(_SEPARATORS)
        if not _ASCII_NUMBER.fullmatch(compact):
            # Non-ASCII digits ('٠١٢...', fullwidth) are no SIP user part: a spoofed caller id, not a number.
            return _INVALID if _number_like(compact) else None
        plus = compact.startswith("+")
        digits = compact.lstrip("+")
        if context is not None:
            ctx = context.translate(_SEPARATORS)
            if ctx.startswith("+") and _ASCII_NUMBER.fullmatch(ctx) and not plus:
                compact, plus = ctx + digits, True  # RFC 3966: a local number in a global context
                digits = compact[1:]
            elif not plus and len(digits) <= EXTENSION_MAX_DIGITS:
                return None
        elif not plus and len(digits) <= EXTENSION_MAX_DIGITS:
            return None
        if len(digits) > _MAX_DIGITS:
            return _INVALID
        return self._compact_number(compact, plus, digits)

    def _compact_number(self, compact: str, plus: bool,
                        digits: str) -> tuple[phonenumbers.PhoneNumber, bool, str] | NumberInfo:
        """`_parse`'s answer for the number `compact` ('+' and digits, or digits)."""
        try:
            return self._plan.parse(compact, self.home_region), plus, digits
        except NumberParseException:
            return _INVALID

    def _analyze(self, value: str) -> NumberInfo | None:
        parsed = self._parse(value)
        if parsed is None or isinstance(parsed, NumberInfo):
            return parsed
        number, plus, digits = parsed
        # A number is valid exactly when it has a region and a type there (phonenumbers' is_valid_number).
        region, kind = self._plan.classify(number)
        valid = region is not None and kind != PhoneNumberType.UNKNOWN
        if not valid and not plus:
            retried, valid = self._retry_international(digits, number)
            if valid:
                number = retried
                region, kind = self._plan.classify(number)
        # Local-only lengths (a US 7-digit dial) have no E.164 form: '+16834002' would be a wrong key.
        if not valid and not self._plan.is_possible(number):
            return _INVALID
        return NumberInfo(
            e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
            region=region,
            number_type=_TYPE_NAMES.get(kind, "unknown"),
            international=(region != self.home_region) if region else None,
            valid=valid,
        )

    def _retry_international(
            self, digits: str, number: phonenumbers.PhoneNumber) -> tuple[phonenumbers.PhoneNumber, bool]:
        """Invalid at home: '00 1 876 ...' logged by a US PBX (IDD 011) or a trunk that drops the '+'."""
        if digits.startswith("00"):
            candidate = "+" + digits[2:]
        elif not digits.startswith("0") and len(digits) >= _BARE_INTERNATIONAL_MIN_DIGITS:
            candidate = "+" + digits
        else:
            return number, False
        try:
            retried = self._plan.parse(candidate, None)
        except NumberParseException:
            return number, False
        if self._plan.is_valid(retried):
            return retried, True
        return number, False


def _add_tag(event: dict[str, Any], tag: str) -> None:
    tags = event.get("tags")
    if tags is None:
        event["tags"] = [tag]
    elif isinstance(tags, list) and tag not in tags:
        tags.append(tag)


class PhoneEnricher:
    """Writes uc.call.<side>_number/_country/_number_type/_international for the caller and callee."""

    def __init__(self, cfg: PhoneConfig) -> None:
        self.analyzer = PhoneAnalyzer(cfg.home_region)
        sides = tuple((tuple(f"{side}_{fact}" for fact in ("number", "country", "number_type", "international")),
                       tuple(tuple(field.split(".")) for field in fields))
                      for side, fields in (("caller", cfg.caller_fields), ("callee", cfg.callee_fields)))
        self.enrich: Callable[[dict[str, Any]], None] = phone_function(sides, self._number,
                                                                        self.analyzer.analyze_short)

    def _number(self, value: Any) -> NumberInfo | None:
        """What `analyze` finds in a field's value (a number logged as a JSON number too)."""
        if value.__class__ is str:
            return self.analyzer.analyze(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**_MAX_DIGITS:
            return self.analyzer.analyze(str(value))  # bounded: str() of a huge int raises
        return None


Side = tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]  # (the four uc.call names it writes, its fields)


def phone_function(sides: tuple[Side, ...], number: Callable[[Any], NumberInfo | None],
                   short_text: Callable[[str], NumberInfo | None]) -> Callable[[dict[str, Any]], None]:
    """The enrichment of `sides` as one generated function of an event (see `ucsiem.codegen`): the objects
    holding the fields read once; per side, its fields in order until one holds a number (`number`; for a str
    of at most _MAX_LEN characters, the usual value, `short_text`, which must give the same), which is
    written where the event has no value (an invalid one only tags the event); a side that fails is tagged
    phone_enrich_error and the other side still runs. Never raises."""
    parents = ObjectReads("        ")
    holders = {path: parents.name(path[:-1]) for _, fields in sides for path in fields}
    again = [" " * 16 + line for line in parents.lines]  # the objects read again after a write created one
    missing = [f"{name} is None" for name in sorted(set(holders.values()))]
    lines = ["def enrich(event):", "    try:", *parents.lines, f"        if {' and '.join(missing)}: return"]
    scope: dict[str, Any] = {"number": number, "short_text": short_text, "_MAX_LEN": _MAX_LEN, "write": _write,
                             "add_tag": _add_tag, "TAG_ERROR": TAG_ERROR}
    for n, (names, fields) in enumerate(sides):
        scope[f"NAMES{n}"] = names
        lines += ["        try:", "            while True:"]
        for path in fields:
            holder = holders[path]
            lines += [f"                v = {holder}.get({path[-1]!r}) if {holder} is not None else None",
                      "                if v.__class__ is str and len(v) <= _MAX_LEN: info = short_text(v)",
                      "                else: info = number(v) if v is not None else None",
                      "                if info is not None:",
                      f"                    if write(event, info, NAMES{n}) and ({' or '.join(missing)}):",
                      *again,
                      "                    break"]
        lines += ["                break", "        except Exception:", "            add_tag(event, TAG_ERROR)"]
    lines += ["    except Exception:  # not even a tag could be added (event is not a dict): left as it is",
              "        pass"]
    return generated("\n".join(lines) + "\n", scope, "<phone numbers>", "enrich")  # type: ignore[no-any-return]


def _write(event: dict[str, Any], info: NumberInfo, names: tuple[str, ...]) -> bool:
    """A side's number facts into uc.call where it has none (an invalid number: a tag); True when it wrote."""
    if not info.valid:  # kept as sent; a SOC can search the tag
        _add_tag(event, TAG_INVALID)
        return False
    call = event.setdefault("uc", {}).setdefault("call", {})
    wrote = False
    for name, fact in zip(names, info[:4], strict=True):  # e164, region, number_type, international
        if fact is not None and call.get(name) is None:
            call[name] = fact
            wrote = True
    return wrote
