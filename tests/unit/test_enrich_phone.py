"""Phone-number enrichment (issue 8): E.164, country, type and international or not, for toll-fraud signals.

Numbers come from phonenumbers' own metadata (example_number_for_type) or were checked against it; the
assertions state what phonenumbers says about them, not ranges invented here.
"""

from __future__ import annotations

import copy
from typing import Any

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tests.sourcehelp import ran_on_source
from ucsiem.enrich.config import PhoneConfig
from ucsiem.enrich.phone import NumberInfo, PhoneAnalyzer, PhoneEnricher

TYPES = {"premium_rate", "toll_free", "shared_cost", "mobile", "fixed_line", "fixed_line_or_mobile", "voip",
         "personal_number", "pager", "uan", "voicemail", "unknown"}

# Digits of other scripts: str.isdecimal() is true, phonenumbers would fold them to ASCII.
ARABIC_INDIC = "".join(chr(0x0660 + d) for d in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0))
FULLWIDTH = "".join(chr(0xFF10 + d) for d in (0, 3, 0, 1, 2, 3, 4, 5, 6, 7))

DE = PhoneAnalyzer("DE")
US = PhoneAnalyzer("US")
GB = PhoneAnalyzer("GB")


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


# ---- what phonenumbers' metadata says, for many countries and every type it has an example of ----

REGIONS = ["DE", "US", "GB", "FR", "JM", "DO", "CU", "LV", "SO", "TN", "IN", "AT", "CH", "NL", "BR", "JP", "AU"]
TYPE_NAMES = {
    PhoneNumberType.PREMIUM_RATE: "premium_rate", PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.SHARED_COST: "shared_cost", PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line", PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number", PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan", PhoneNumberType.VOICEMAIL: "voicemail",
}
EXAMPLES = [(region, ptype) for region in REGIONS for ptype in TYPE_NAMES
            if phonenumbers.example_number_for_type(region, ptype) is not None]


@pytest.mark.parametrize(("region", "ptype"), EXAMPLES)
def test_metadata_examples_keep_region_and_type(region: str, ptype: int) -> None:
    number = phonenumbers.example_number_for_type(region, ptype)
    assert number is not None
    info = DE.analyze(e164(number))
    assert info is not None and info.valid and info.e164 == e164(number)
    # What phonenumbers calls it: US/NANP fixed-line and mobile examples are fixed_line_or_mobile.
    expected = {**TYPE_NAMES, PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile"}
    assert info.number_type == expected[phonenumbers.number_type(number)]
    # NANP toll-free/premium examples (+1 800/900) belong to the US, not to the Caribbean region asked for.
    assert info.region == phonenumbers.region_code_for_number(number)
    assert info.international is (info.region != "DE")


def test_type_names_cover_phonenumbers_types() -> None:
    assert len(EXAMPLES) > 60
    assert {REGIONS[i] for i in range(len(REGIONS))} <= {r for r, _ in EXAMPLES}
    names = {(DE.analyze(e164(n)) or NumberInfo(None, None, None, None, False)).number_type
             for r, t in EXAMPLES if (n := phonenumbers.example_number_for_type(r, t)) is not None}
    assert names <= TYPES
    assert {"premium_rate", "toll_free", "shared_cost", "mobile", "fixed_line", "voip", "uan", "personal_number",
            "voicemail"} <= names


@pytest.mark.parametrize(("analyzer", "value", "expected"), [
    # premium rate
    (DE, "0900 1 234567", NumberInfo("+499001234567", "DE", "premium_rate", False, True)),
    (GB, "0901 234 5678", NumberInfo("+449012345678", "GB", "premium_rate", False, True)),
    (DE, "+44 901 234 5678", NumberInfo("+449012345678", "GB", "premium_rate", True, True)),
    (US, "1-900-234-5678", NumberInfo("+19002345678", "US", "premium_rate", False, True)),
    (DE, "+33 8 91 12 34 56", NumberInfo("+33891123456", "FR", "premium_rate", True, True)),
    (DE, "+371 90 123 456", NumberInfo("+37190123456", "LV", "premium_rate", True, True)),
    (DE, "+216 88 123 456", NumberInfo("+21688123456", "TN", "premium_rate", True, True)),
    # toll free, shared cost
    (DE, "0800 1234567890", NumberInfo("+498001234567890", "DE", "toll_free", False, True)),
    (US, "+1 800 234 5678", NumberInfo("+18002345678", "US", "toll_free", False, True)),
    (GB, "0800 123 4567", NumberInfo("+448001234567", "GB", "toll_free", False, True)),
    (DE, "+91 1800 12 3456", NumberInfo("+911800123456", "IN", "toll_free", True, True)),
    (DE, "0180 1 2345", NumberInfo("+4918012345", "DE", "shared_cost", False, True)),
    # mobile, fixed line
    (DE, "0151 23456789", NumberInfo("+4915123456789", "DE", "mobile", False, True)),
    (DE, "+33 6 12 34 56 78", NumberInfo("+33612345678", "FR", "mobile", True, True)),
    (DE, "+53 5 1234567", NumberInfo("+5351234567", "CU", "mobile", True, True)),
    (DE, "+252 71 123456", NumberInfo("+25271123456", "SO", "mobile", True, True)),
    (DE, "+44 20 7946 0018", NumberInfo("+442079460018", "GB", "fixed_line", True, True)),
    (US, "+1 202 555 0100", NumberInfo("+12025550100", "US", "fixed_line_or_mobile", False, True)),
    # Caribbean NANP: dialled like a domestic number from a US PBX, yet another country (IRSF favourites)
    (US, "+1 876 210 1234", NumberInfo("+18762101234", "JM", "mobile", True, True)),
    (US, "1 876 555 0100", NumberInfo("+18765550100", "JM", "mobile", True, True)),
    (US, "18765550100", NumberInfo("+18765550100", "JM", "mobile", True, True)),
    (US, "809 234 5678", NumberInfo("+18092345678", "DO", "fixed_line_or_mobile", True, True)),
    # non-geographic: satellite and international networks, region "001"
    (DE, "+881 6 12345678", NumberInfo("+881612345678", "001", "mobile", True, True)),
    (US, "011 882 342 1234", NumberInfo("+8823421234", "001", "mobile", True, True)),
    (DE, "00883 510012345", NumberInfo("+883510012345", "001", "voip", True, True)),
])
def test_known_numbers(analyzer: PhoneAnalyzer, value: str, expected: NumberInfo) -> None:
    assert analyzer.analyze(value) == expected


def test_possible_but_invalid_number_keeps_e164_and_is_not_valid() -> None:
    # +882 12 is not an assigned network: phonenumbers calls it possible, not valid.
    info = DE.analyze("+882 1234 5678")
    assert info == NumberInfo("+88212345678", "001", "unknown", True, False)


# ---- forms of the same number ----

def test_german_forms_meet_in_normalize() -> None:
    forms = ["0049 30 1234567", "+49 30 1234567", "030 1234567", "+49 (30) 123-4567", "030/123 45 67",
             "sip:+49301234567@example.com;user=phone", "<sip:0301234567@pbx.example.com>",
             '"Alice" <sips:0049301234567@pbx:5061;transport=tls>', "tel:+49-30-1234567",
             "tel:030-1234567;phone-context=+49", "sip:0301234567;phone-context=+49@pbx", "sip:%2B49301234567@x",
             "+49 30 1234567 ext. 12", " +49 30 1234567\t"]
    assert {DE.normalize(f) for f in forms} == {"+49301234567"}


@pytest.mark.parametrize(("value", "expected"), [
    ("011 44 20 7946 0018", "+442079460018"),  # US international prefix
    ("00 1 876 555 0100", "+18765550100"),  # '00' is not the US prefix, but no US number starts with it
    ("tel:+1-202-555-0100;phone-context=example.com", "+12025550100"),
    ("+1 (202) 555-0100 x123", "+12025550100"),  # directory numbers carry extensions
    ("202.555.0100", "+12025550100"),
    ("4930123456", "+4930123456"),  # a trunk that drops the '+': not a US number, valid German
])
def test_us_home_forms(value: str, expected: str) -> None:
    assert US.normalize(value) == expected


def test_display_name_cannot_supply_the_number() -> None:
    # The display name is the caller's to choose; the URI is what was routed.
    assert US.analyze('"<sip:+19002345678@x>" <sip:alice@pbx>') is None
    assert US.normalize('"Bob <x>" <sip:+12025550100@pbx>;tag=1') == "+12025550100"


def test_international_without_plus_from_de() -> None:
    info = DE.analyze("12025550100")
    assert info is not None and info.e164 == "+12025550100" and info.region == "US" and info.international


def test_local_only_dial_is_not_reinterpreted_as_a_foreign_number() -> None:
    # A 7-digit US local dial must not become Niue (+683 4002) and look like toll fraud.
    info = US.analyze("6834002")
    assert info is not None and not info.valid and info.e164 is None and info.region is None


@pytest.mark.parametrize("value", [
    "alice", "alice@example.com", "sip:alice@example.com", "<sip:conference-7@pbx>", "sip:pbx.example.com",
    "1234", "100200", "sip:1234@pbx", "tel:7042;phone-context=example.com", "112", "+", "", "   ", "++",
    "10.1.2.3", "sip:192.168.100.200:5060", "1stfloor-lobby", "anonymous",
    "Anonymous <sip:anonymous@anonymous.invalid>",
])
def test_not_a_number(value: str) -> None:
    assert DE.analyze(value) is None
    assert DE.normalize(value) is None


@pytest.mark.parametrize("value", [
    "1" * 40, "+" + "9" * 25, ARABIC_INDIC, FULLWIDTH, "+4930123456\x00", "+49301234\x1b[2J567",
    "0301234567abc", "+999 1234 5678", "+49 30", "sip:+4930\r\n1234567@x",
])
def test_malformed_number_is_invalid_not_dropped(value: str) -> None:
    assert DE.analyze(value) == NumberInfo(None, None, None, None, False)
    assert DE.normalize(value) is None


def test_possible_length_but_unassigned_is_invalid() -> None:
    # phonenumbers finds the length possible for DE, so the E.164 form is kept; valid says the rest.
    info = DE.analyze("00000000000")
    assert info is not None and not info.valid and info.e164 == "+490000000000" and info.number_type == "unknown"


def test_huge_values_are_bounded_and_not_cached() -> None:
    analyzer = PhoneAnalyzer("DE")
    assert analyzer.analyze("4" * 1_000_000) == NumberInfo(None, None, None, None, False)
    assert analyzer.analyze("a" * 1_000_000) is None
    assert analyzer.normalize("+49" + "1" * 1_000_000) is None
    assert analyzer._cached.cache_info().currsize == 0


def test_analyze_is_cached_and_bounded() -> None:
    analyzer = PhoneAnalyzer("DE", cache_size=2)
    for value in ["030 1234567", "030 1234567", "+44 20 7946 0018", "alice", "030 1234567"]:
        analyzer.analyze(value)
        analyzer.normalize(value)
    info = analyzer._cached.cache_info()
    assert info.currsize == 2 and info.hits == 1  # the repeat; the last one had been evicted
    info = analyzer._cached_e164.cache_info()  # normalize has a cache of its own (no region or type)
    assert info.currsize == 2 and info.hits == 1  # the repeat; the last one had been evicted


def test_home_region_case_insensitive() -> None:
    assert PhoneAnalyzer("de").analyze("030 1234567") == DE.analyze("030 1234567")


# ---- the enricher ----

def enricher(home: str = "US") -> PhoneEnricher:
    return PhoneEnricher(PhoneConfig(home_region=home))


def test_enrich_writes_exactly_the_expected_fields() -> None:
    event: dict[str, Any] = {
        "event": {"action": "call-start"},
        "uc": {"call": {"caller": "sip:+12025550100@pbx.example.com;user=phone", "callee": "011 882 342 1234"}},
    }
    enricher().enrich(event)
    assert event == {
        "event": {"action": "call-start"},
        "uc": {"call": {
            "caller": "sip:+12025550100@pbx.example.com;user=phone", "callee": "011 882 342 1234",
            "caller_number": "+12025550100", "caller_country": "US", "caller_number_type": "fixed_line_or_mobile",
            "caller_international": False,
            "callee_number": "+8823421234", "callee_country": "001", "callee_number_type": "mobile",
            "callee_international": True,
        }},
    }


def test_enrich_caribbean_callee_from_sip_request_uri() -> None:
    event: dict[str, Any] = {"uc": {"sip": {"request_uri": "sip:18765550100@gw.example.com"}}}
    enricher().enrich(event)
    assert event["uc"]["call"] == {"callee_number": "+18765550100", "callee_country": "JM",
                                   "callee_number_type": "mobile", "callee_international": True}
    assert "tags" not in event


def test_enrich_both_sides_from_sip_create_uc_call() -> None:
    event: dict[str, Any] = {"uc": {"sip": {"from_uri": "<sip:+442079460018@x>", "to_uri": "tel:+1-900-234-5678"}}}
    enricher().enrich(event)
    assert event["uc"]["call"] == {
        "caller_number": "+442079460018", "caller_country": "GB", "caller_number_type": "fixed_line",
        "caller_international": True,
        "callee_number": "+19002345678", "callee_country": "US", "callee_number_type": "premium_rate",
        "callee_international": False,
    }


def test_enrich_premium_rate_at_home() -> None:
    event: dict[str, Any] = {"uc": {"call": {"callee_number": "+499001234567"}}}
    enricher("DE").enrich(event)
    assert event["uc"]["call"] == {"callee_number": "+499001234567", "callee_country": "DE",
                                   "callee_number_type": "premium_rate", "callee_international": False}


def test_enrich_leaves_events_without_numbers_untouched() -> None:
    events: list[dict[str, Any]] = [
        {"event": {"action": "login"}, "user": {"name": "alice"}},
        {"uc": {"sip": {"method": "REGISTER"}}},
        {"uc": {"call": {"caller": "alice", "callee": "1234"}, "sip": {"from_uri": "sip:alice@x"}}},
        {"uc": {"call": {"caller": None}}},
        {},
    ]
    for event in events:
        before = copy.deepcopy(event)
        enricher().enrich(event)
        assert event == before


def test_enrich_never_overwrites_parser_fields() -> None:
    event: dict[str, Any] = {"uc": {"call": {"caller_number": "2025550100", "caller_country": "XX",
                                             "caller_international": True}}}
    enricher().enrich(event)
    assert event["uc"]["call"] == {"caller_number": "2025550100", "caller_country": "XX",
                                   "caller_international": True, "caller_number_type": "fixed_line_or_mobile"}


def test_enrich_first_field_holding_a_number_wins() -> None:
    event: dict[str, Any] = {"uc": {"call": {"caller": "alice"},
                                    "sip": {"from_uri": "sip:+442079460018@x", "to_uri": "sip:bob@x",
                                            "request_uri": "sip:+33612345678@x"}}}
    enricher().enrich(event)
    call = event["uc"]["call"]
    assert call["caller_number"] == "+442079460018" and call["caller_country"] == "GB"
    assert call["callee_number"] == "+33612345678" and call["callee_number_type"] == "mobile"


def test_enrich_invalid_number_is_kept_and_tagged_once() -> None:
    event: dict[str, Any] = {"tags": ["seen"],
                             "uc": {"call": {"caller": "+999 1234 5678", "callee": "1" * 40}}}
    before = copy.deepcopy(event["uc"])
    enricher().enrich(event)
    assert event["uc"] == before
    assert event["tags"] == ["seen", "phone_invalid"]


def test_enrich_invalid_creates_tags() -> None:
    event: dict[str, Any] = {"uc": {"call": {"callee": ARABIC_INDIC}}}
    enricher().enrich(event)
    assert event == {"uc": {"call": {"callee": ARABIC_INDIC}}, "tags": ["phone_invalid"]}


def test_enrich_custom_fields_and_int_values() -> None:
    cfg = PhoneConfig(home_region="GB", caller_fields=["source.user.phone"], callee_fields=["cdr.dialled"])
    event: dict[str, Any] = {"source": {"user": {"phone": 442079460018}}, "cdr": {"dialled": "09012345678"}}
    PhoneEnricher(cfg).enrich(event)
    assert event["uc"]["call"] == {
        "caller_number": "+442079460018", "caller_country": "GB", "caller_number_type": "fixed_line",
        "caller_international": False,
        "callee_number": "+449012345678", "callee_country": "GB", "callee_number_type": "premium_rate",
        "callee_international": False,
    }


def test_enrich_error_is_tagged_not_raised() -> None:
    # uc.call is not a dict: the number is found in uc.sip, but cannot be written.
    event: dict[str, Any] = {"uc": {"call": "garbage", "sip": {"from_uri": "sip:+442079460018@x"}}}
    enricher().enrich(event)
    assert event["tags"] == ["phone_enrich_error"] and event["uc"]["call"] == "garbage"


def test_enrich_survives_analyzer_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: PhoneAnalyzer, value: str) -> NumberInfo | None:
        raise RuntimeError("bug")

    monkeypatch.setattr(PhoneAnalyzer, "_analyze", boom)  # a bug in the analysis, which every path reaches
    e = enricher()
    event: dict[str, Any] = {"uc": {"call": {"caller": "+12025550100", "callee": "+12025550101"}}}
    e.enrich(event)
    assert event["tags"] == ["phone_enrich_error"]


@pytest.mark.parametrize("event", [
    {"uc": None}, {"uc": []}, {"uc": {"call": {"caller": ["+12025550100"]}}}, {"uc": {"call": 7}},
    {"uc": {"call": {"caller": "+999 1"}}, "tags": "not-a-list"}, {"uc": {"call": {"caller": 10**5000}}},
    {"uc": {"call": {"caller": "+99912345678"}}, "tags": None},
])
def test_enrich_odd_shapes_never_raise(event: dict[str, Any]) -> None:
    enricher().enrich(event)
    assert "phone_enrich_error" not in (event.get("tags") or [])


def test_enrich_non_dict_never_raises() -> None:
    enricher().enrich([])  # type: ignore[arg-type]
    enricher().enrich(None)  # type: ignore[arg-type]


def test_enricher_shares_its_analyzer() -> None:
    e = enricher("DE")
    assert isinstance(e.analyzer, PhoneAnalyzer) and e.analyzer.normalize("030 1234567") == "+49301234567"


# ---- properties ----

PHONEISH = st.text(alphabet="0123456789+-. ()/#x;=@<>:%sipteSIPTEL\u0660\uff11\x00\n\u00a0", max_size=60)
VALUES = st.one_of(st.text(max_size=300), PHONEISH, st.integers(), st.none(), st.booleans(),
                   st.lists(st.text(max_size=5), max_size=3))
FIELDS = ["uc.call.caller_number", "uc.call.caller", "uc.sip.from_uri",
          "uc.call.callee_number", "uc.call.callee", "uc.sip.to_uri", "uc.sip.request_uri"]
ENRICHERS = {home: enricher(home) for home in ("US", "DE", "GB")}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(home=st.sampled_from(sorted(ENRICHERS)), values=st.dictionaries(st.sampled_from(FIELDS), VALUES),
       tags=st.one_of(st.none(), st.lists(st.sampled_from(["a", "phone_invalid"]), max_size=2, unique=True)))
def test_enrich_never_raises(home: str, values: dict[str, Any], tags: list[str] | None) -> None:
    event: dict[str, Any] = {} if tags is None else {"tags": list(tags)}
    for field, value in values.items():
        node = event
        *parents, last = field.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    ENRICHERS[home].enrich(event)
    if "tags" in event:
        assert len(event["tags"]) == len(set(event["tags"]))
        assert "phone_enrich_error" not in event["tags"]  # every value shape is handled, not excepted
    call = event.get("uc", {}).get("call", {})
    for side in ("caller", "callee"):
        if f"{side}_country" in call:
            assert call[f"{side}_number_type"] in TYPES and isinstance(call[f"{side}_international"], bool)


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.text(max_size=300), PHONEISH))
def test_analyze_never_raises_and_valid_numbers_are_stable(value: str) -> None:
    info = DE.analyze(value)
    if info is None:
        return
    assert info.number_type is None or info.number_type in TYPES
    if info.valid:
        assert info.e164 is not None and info.e164.startswith("+") and info.region is not None
        assert DE.normalize(info.e164) == info.e164


def test_the_extension_shortcut_decides_as_the_general_steps(monkeypatch: pytest.MonkeyPatch,
                                                             request: pytest.FixtureRequest) -> None:
    if ran_on_source(request, "ucsiem.enrich.phone"):  # the shortcut is turned off by replacing it
        return
    from ucsiem.enrich import phone

    values = ["1234", "100200", "1234567", "0", "١٢٣٤", "sip:1234@pbx", "SIP:5582@example.com;transport=tls",
              "sips:123456@h", "sip:1234567@h", "sip:1234@pbx <sip:+4930123456@h>", "sip:12;phone-context=+49@h",
              "sip:1234@h?x=<y>", " sip:1234@h", "sip:1234@h\n", "sip:@h", "sip:+1234@h", "tel:1234"]
    shortcut = [value for value in values if phone._plain_extension(value)]
    assert len(shortcut) >= 6
    fast = [(PhoneAnalyzer("DE").analyze(v), PhoneAnalyzer("US").normalize(v)) for v in values]
    monkeypatch.setattr(phone, "_plain_extension", lambda value: False)
    assert [(PhoneAnalyzer("DE").analyze(v), PhoneAnalyzer("US").normalize(v)) for v in values] == fast


def test_the_international_shortcut_decides_as_the_general_steps(monkeypatch: pytest.MonkeyPatch,
                                                                 request: pytest.FixtureRequest) -> None:
    if ran_on_source(request, "ucsiem.enrich.phone"):  # the shortcut is turned off by replacing its pattern
        return
    import random
    import re

    from ucsiem.enrich import phone

    rnd = random.Random(8)
    numbers = ["+" + str(rnd.choice([1, 7, 30, 33, 39, 44, 49, 353, 358, 876, 881, 882, 979]))
               + "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 17))) for _ in range(400)]
    values = [*numbers, *(f"sip:{n}@example.com" for n in numbers[::3]), *(f"SIPS:{n}@h;user=phone" for n in
              numbers[::7]), *(f"sip:{n}" for n in numbers[::11]), "+", "+0", "+44", "+" + "4" * 20, "+" + "4" * 21,
              "sip:+442079460000@", "sip:+442079460000@h<sip:+12025550100@h>", "sip:+4420 79460000@h",
              "sip:+442079460000;phone-context=+1@h", " +442079460000", "+442079460000 ", "+442079460000x12"]
    shortcut = [value for value in values if phone._INTERNATIONAL.fullmatch(value)]
    assert len(shortcut) >= 500
    homes = ("DE", "GB", "US")
    fast = [(PhoneAnalyzer(h).analyze(v), PhoneAnalyzer(h).normalize(v)) for h in homes for v in values]
    assert sum(info is not None and info.valid for info, _ in fast) > 100  # valid and invalid numbers both
    assert sum(info is not None and not info.valid for info, _ in fast) > 100
    monkeypatch.setattr(phone, "_INTERNATIONAL", re.compile(r"(?!)"))
    assert [(PhoneAnalyzer(h).analyze(v), PhoneAnalyzer(h).normalize(v)) for h in homes for v in values] == fast


def reference_enrich(e: PhoneEnricher, cfg: PhoneConfig, event: Any) -> None:
    """What the generated enrichment must do, step by step: per side, the first field holding a number wins;
    an invalid number tags the event; a valid one fills uc.call where it has no value; a side that fails is
    tagged and the other still runs; an event of another shape is left alone."""
    from ucsiem.enrich.phone import _MAX_DIGITS, TAG_ERROR, TAG_INVALID, _add_tag

    def field(path: str) -> Any:
        node = event
        for part in path.split("."):
            node = node.get(part) if type(node) is dict else None
        return node

    if type(event) is not dict:
        return
    for side, fields in (("caller", cfg.caller_fields), ("callee", cfg.callee_fields)):
        try:
            for path in fields:
                value = field(path)
                if type(value) is int and 0 <= value < 10**_MAX_DIGITS:
                    value = str(value)
                info = e.analyzer.analyze(value) if type(value) is str else None
                if info is None:
                    continue
                if not info.valid:
                    _add_tag(event, TAG_INVALID)
                    break
                call = event.setdefault("uc", {}).setdefault("call", {})
                for fact, found in zip(("number", "country", "number_type", "international"), info[:4], strict=True):
                    if found is not None and call.get(f"{side}_{fact}") is None:
                        call[f"{side}_{fact}"] = found
                break
        except Exception:
            _add_tag(event, TAG_ERROR)


SHAPES = st.one_of(VALUES, st.builds(dict), st.just("garbage"), st.builds(list), st.sampled_from(
    ["+442079460018", "+12025550100", "09012345678", "030 1234567", "sip:+18765550123@x", "+999 1", "+99912345678",
     "1004", 442079460018, ARABIC_INDIC]))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(home=st.sampled_from(sorted(ENRICHERS)),
       values=st.dictionaries(st.sampled_from([*FIELDS, "uc.call", "uc.sip", "uc"]), st.one_of(SHAPES, PHONEISH)),
       tags=st.one_of(st.none(), st.just("not-a-list"), st.lists(st.sampled_from(["a", "phone_invalid"]), max_size=2)))
def test_the_generated_enrichment_does_what_the_steps_say(home: str, values: dict[str, Any], tags: Any) -> None:
    event: dict[str, Any] = {} if tags is None else {"tags": copy.copy(tags)}
    for path, value in sorted(values.items(), key=lambda item: item[0].count(".")):
        node: Any = event
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {}) if type(node) is dict else None
        if type(node) is dict:
            node[last] = value
    ours, theirs = copy.deepcopy(event), copy.deepcopy(event)
    ENRICHERS[home].enrich(ours)
    reference_enrich(ENRICHERS[home], PhoneConfig(home_region=home), theirs)
    assert ours == theirs
