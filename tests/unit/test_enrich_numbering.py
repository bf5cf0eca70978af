"""The compiled numbering plan against phonenumbers itself: the same region, type, validity, possible length and
parse, over the metadata's example numbers of every region and type, and over numbers made from them with other
digits (most of which are invalid, the common case of a first sighting) for every calling code."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType, ValidationResult

from ucsiem.enrich.numbering import NumberingPlan
from ucsiem.enrich.phone import PhoneAnalyzer

REPO = Path(__file__).resolve().parents[2]
TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
         PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN, PhoneNumberType.VOICEMAIL]


def example_numbers() -> list[phonenumbers.PhoneNumber]:
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in TYPES:
            if (number := phonenumbers.example_number_for_type(region, kind)) is not None:
                out.append(number)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        if (number := phonenumbers.example_number_for_non_geo_entity(code)) is not None:
            out.append(number)
    return out


EXAMPLES = example_numbers()


def variants(rnd: random.Random) -> list[str]:
    """'+' forms of the examples with their last digits, their length or their start changed, and random
    digits after every calling code."""
    out = []
    for number in EXAMPLES:
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        for _ in range(3):  # the same length, other last digits: valid as often as not
            keep = rnd.randint(len(e164) - 3, len(e164) - 1)
            out.append(e164[:keep] + "".join(rnd.choice("0123456789") for _ in range(len(e164) - keep)))
        for _ in range(3):  # any start, any length
            keep = rnd.randint(1, len(e164) - 1)
            out.append(e164[:keep] + "".join(rnd.choice("0123456789") for _ in range(rnd.randint(0, 18 - keep))))
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(20):
            out.append(f"+{code}" + "".join(rnd.choice("0123456789") for _ in range(rnd.randint(1, 18))))
    return [v for v in out if len(v) > 1]


def reference(number: phonenumbers.PhoneNumber) -> tuple[str | None, int, bool, bool]:
    return (phonenumbers.region_code_for_number(number), phonenumbers.number_type(number),
            phonenumbers.is_valid_number(number),
            phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE)


def ours(plan: NumberingPlan, number: phonenumbers.PhoneNumber) -> tuple[str | None, int, bool, bool]:
    region, kind = plan.classify(number)
    return region, kind, plan.is_valid(number), plan.is_possible(number)


def test_every_example_number_has_phonenumbers_region_type_and_validity() -> None:
    plan = NumberingPlan()
    assert len(EXAMPLES) > 1000
    kinds = set()
    for number in EXAMPLES:
        expected = reference(number)
        assert ours(plan, number) == expected, phonenumbers.format_number(number, PhoneNumberFormat.E164)
        kinds.add(expected[1])
    assert {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.UAN, PhoneNumberType.FIXED_LINE_OR_MOBILE,
            PhoneNumberType.MOBILE, PhoneNumberType.VOICEMAIL} <= kinds  # the branches were all taken


@pytest.mark.parametrize("seed", [1, 2])
def test_changed_and_random_numbers_parse_and_classify_as_phonenumbers_does(seed: int) -> None:
    plan = NumberingPlan()
    fast = fallback = invalid = valid = 0
    for text in variants(random.Random(seed)):
        try:
            expected = phonenumbers.parse(text, "GB")
        except NumberParseException:
            expected = None
        parsed = plan.parse_international(text)
        if parsed is None:
            fallback += 1  # phonenumbers' turn: nothing of ours to hold
        else:
            fast += 1
            assert expected is not None, text
            assert parsed == expected, text
            assert phonenumbers.national_significant_number(parsed) == phonenumbers.national_significant_number(
                expected)
        if expected is not None:
            result = reference(expected)
            assert ours(plan, expected) == result, text
            valid += result[2]
            invalid += not result[2]
    assert fast > fallback > 500 and valid > 1000 and invalid > 1000  # both paths and both outcomes, often


@pytest.mark.parametrize(("text", "region"), [
    ("020 7946 0000", "GB"), ("07700 900123", "GB"), ("0049 30 123456", "DE"), ("(202) 555-0100", "US"),
    ("1 876 555 0100", "US"), ("09066 123456", "GB"), ("0800 123 4567", "GB"), ("06 12345678", "NL"),
    ("02 1234 5678", "IT"), ("+39 02 1234 5678", None), ("+44 0 20 7946 0000", None), ("+1 1 202 555 0100", None),
])
def test_national_forms_phonenumbers_parses_classify_the_same(text: str, region: str | None) -> None:
    plan = NumberingPlan()
    number = phonenumbers.parse(text, region)
    assert ours(plan, number) == reference(number)
    if text.startswith("+"):
        assert plan.parse_international(text.replace(" ", "")) in (None, number)


def test_forms_left_to_phonenumbers() -> None:
    plan = NumberingPlan()
    for text in ["+4402079460000", "+1 202 555 0100", "4420794600", "+0044", "+44", "+999123456", "+1" + "2" * 21,
                 "+39 0212345678", "+11202555010"]:
        assert plan.parse_international(text) is None, text


def phonenumbers_plan() -> NumberingPlan:
    """phonenumbers' own calls, as the analyzer made them before the plan was compiled. Made in a pure-Python
    child (`reference_answers`): a class compiled with mypyc refuses an interpreted subclass."""

    class PhonenumbersPlan(NumberingPlan):
        def classify(self, number: phonenumbers.PhoneNumber) -> tuple[str | None, int]:
            region = phonenumbers.region_code_for_number(number)
            return region, phonenumbers.number_type(number) if region is not None else PhoneNumberType.UNKNOWN

        def is_valid(self, number: phonenumbers.PhoneNumber) -> bool:
            return bool(phonenumbers.is_valid_number(number))

        def is_possible(self, number: phonenumbers.PhoneNumber) -> bool:
            return bool(phonenumbers.is_possible_number_with_reason(number) == ValidationResult.IS_POSSIBLE)

        def parse_international(self, compact: str) -> phonenumbers.PhoneNumber | None:
            return None

    return PhonenumbersPlan()


def reference_answers(home: str, values: list[str]) -> list[list[Any]]:
    """[analyze, normalize] of each value by the analyzer with phonenumbers' own calls (run by the child)."""
    analyzer = PhoneAnalyzer(home)
    analyzer._plan = phonenumbers_plan()
    return [[analyzer.analyze(value), analyzer.normalize(value)] for value in values]


@pytest.mark.parametrize("home", ["GB", "US", "DE", "IT", "JM"])
def test_the_analyzer_gives_what_it_gave_with_phonenumbers_own_calls(home: str) -> None:
    rnd = random.Random(home)
    values = variants(rnd)[::7]
    values += [v[1:] for v in values[::3]] + ["00" + v[1:] for v in values[::5]]  # without '+', and with an IDD
    values += [f"sip:{v}@example.com;user=phone" for v in values[::4]] + [f"tel:{v}" for v in values[::6]]
    child = subprocess.run(
        [sys.executable, "-c", "import json, sys; from tests.unit.test_enrich_numbering import reference_answers; "
         "print(json.dumps(reference_answers(sys.argv[1], json.load(sys.stdin))))", home],
        input=json.dumps(values), capture_output=True, text=True, cwd=REPO,
        env={**os.environ, "UCSIEM_PURE_PYTHON": "1"}, check=False)
    assert child.returncode == 0, child.stderr
    fast = PhoneAnalyzer(home)
    for value, (info, e164) in zip(values, json.loads(child.stdout), strict=True):
        analyzed = fast.analyze(value)
        assert (list(analyzed) if analyzed is not None else None) == info, value
        assert fast.normalize(value) == e164, value


def test_the_special_types_as_one_pattern_answer_as_one_by_one() -> None:
    """Premium rate, toll free, ... voicemail are tried as one regex of alternatives: the first that matches
    (its lengths and its pattern) is the type, as trying them one by one in phonenumbers' order gives. Numbers:
    every example number of every type, with a digit more, a digit less and other digits, tried in every
    region of their calling code; and made-up descriptions where the order and the lengths decide."""
    from phonenumbers import PhoneMetadata

    from ucsiem.enrich.numbering import _first_of, _one_by_one, _specials

    rnd = random.Random(5)
    by_code: dict[int, list[str]] = {}
    for number in EXAMPLES:
        nsn = phonenumbers.national_significant_number(number)
        forms = by_code.setdefault(number.country_code or 0, [])
        forms += [nsn, nsn[:-1], nsn + "0", nsn + "9", *(nsn[:k] + "".join(rnd.choice("0123456789")
                  for _ in range(len(nsn) - k)) for k in range(1, len(nsn)))]
    compared = 0
    for code, forms in sorted(by_code.items()):
        for region_code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region_code.upper())
            if metadata is None:
                continue
            combined, reference_ = _first_of(_specials(metadata)), _one_by_one(_specials(metadata))
            assert combined is not None
            for nsn in forms:
                one_by_one = reference_(nsn)
                assert combined(nsn) == one_by_one, (region_code, nsn)
                compared += 1
    assert compared > 20_000
    # order matters somewhere (else this test could not tell): premium rate first, or toll free first
    gb = PhoneMetadata.metadata_for_region("GB")
    assert gb is not None
    both = [(PhoneNumberType.PREMIUM_RATE, gb.premium_rate), (PhoneNumberType.TOLL_FREE, gb.premium_rate)]
    first = _first_of(both)
    assert first is not None and first("9098765432") == PhoneNumberType.PREMIUM_RATE
    last = _first_of(both[::-1])
    assert last is not None and last("9098765432") == PhoneNumberType.TOLL_FREE
    from types import SimpleNamespace

    five = _first_of([(PhoneNumberType.UAN, SimpleNamespace(national_number_pattern=r"\d+", possible_length=(5, 7))),
                      (PhoneNumberType.PAGER, SimpleNamespace(national_number_pattern=r"\d+", possible_length=()))])
    assert five is not None
    assert [five(n) for n in ("1234", "12345", "123456", "1234567")] == [
        PhoneNumberType.PAGER, PhoneNumberType.UAN, PhoneNumberType.PAGER, PhoneNumberType.UAN]
