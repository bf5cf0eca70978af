"""JSON records: NDJSON lines, arrays, API envelopes, pretty-printed documents framed by JSON_FRAMING."""

from __future__ import annotations

import pytest

from ucsiem.errors import ParseError
from ucsiem.parsing.jsonrecords import json_documents


def test_one_object_per_line() -> None:
    assert json_documents('{"a": 1}\n') == [{"a": 1}]


def test_array_of_objects() -> None:
    assert json_documents('[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]


def test_envelope_only_when_named() -> None:
    page = '{"@odata.nextLink": "https://graph.example.com/next", "value": [{"id": "x"}, {"id": "y"}]}'
    assert json_documents(page, envelopes=("value",)) == [{"id": "x"}, {"id": "y"}]
    assert json_documents(page) == [{"@odata.nextLink": "https://graph.example.com/next",
                                     "value": [{"id": "x"}, {"id": "y"}]}]


def test_pretty_printed_document() -> None:
    assert json_documents('{\n  "a": [\n    1\n  ]\n}') == [{"a": [1]}]


def test_blank_record_is_no_event() -> None:
    assert json_documents("  \n") == []


@pytest.mark.parametrize(("text", "code"), [
    ('{"a": "b', "truncated"),
    ('[{"a": 1}, {"a": [2', "truncated"),
    ("hello", "no_match"),
    ('{"a": 1} trailing', "no_match"),
    ('[1, {"a": 1}]', "bad_field"),
    ('[{"a": 1}, "x"]', "bad_field"),
])
def test_errors_name_what_is_wrong(text: str, code: str) -> None:
    with pytest.raises(ParseError) as info:
        json_documents(text)
    assert info.value.code == code


def test_framing_keeps_ndjson_lines_apart_and_pretty_documents_whole() -> None:
    from ucsiem.inputs.framing import Framer
    from ucsiem.parsing.jsonrecords import JSON_FRAMING

    data = b'{"a": 1}\n{"a": 2}\n[\n  {"a": 3},\n  {"a": 4}\n]\n{\n  "value": [{"a": 5}]\n}\n'
    framer = Framer(JSON_FRAMING, 1_048_576)
    frames = framer.feed(data) + framer.flush(final=True)
    records = [f.data.decode() for f in frames if f.data]
    assert records == ['{"a": 1}', '{"a": 2}', '[\n  {"a": 3},\n  {"a": 4}\n]', '{\n  "value": [{"a": 5}]\n}']
    assert [json_documents(r, envelopes=("value",)) for r in records] == [
        [{"a": 1}], [{"a": 2}], [{"a": 3}, {"a": 4}], [{"a": 5}]]
