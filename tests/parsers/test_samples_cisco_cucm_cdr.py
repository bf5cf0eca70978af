"""The cisco_cucm_cdr parser on the published CUCM CDR/CMR flat files (`shared/samples/cisco_cucm/*.csv`,
a real lab cluster's files, verbatim) and on the header mechanics: columns read by name, a header that
appears again later (rotation), quoted commas, and files whose header line is missing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.parsers.samplehelp import (
    Event,
    assert_no_pipeline_errors,
    assert_only_parse_error,
    builtin_parser,
    each_file,
    golden_dir,
    header_key_of,
    mutated,
    nonblank_lines,
    sample_files,
    sample_lines,
)
from ucsiem.errors import ParseError
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext, RawRecord

PARSER = builtin_parser("cisco_cucm_cdr")
FILES = sample_files("cisco_cucm", "*.csv")
CTX = ParseContext(reference_time=datetime(2025, 4, 18, 17, tzinfo=UTC))


def _events(name: str) -> list[Event]:
    return run_case_events(PARSER, next(p for p in FILES if p.name == name))


def _lines(name: str) -> list[str]:
    path = next(p for p in FILES if p.name == name)
    return path.read_text(encoding="utf-8").splitlines()


def _ctx_with_header(names_line: str) -> ParseContext:
    key = header_key_of(PARSER)(names_line.encode())
    assert key is not None
    return ParseContext(reference_time=CTX.reference_time, headers={key: names_line})


@each_file(FILES)
def test_every_sample_row_is_an_event_and_the_header_lines_are_none(path: Path) -> None:
    events = run_case_events(PARSER, path)
    assert_no_pipeline_errors(events)
    assert len(events) == len(nonblank_lines(path)) - 2  # names line and types line make no event


def test_cdr_samples() -> None:
    rejected, ended = _events("cdr_samples.csv")
    # never connected (dateTimeConnect 0): the recording leg refused with CUCM's SIP 503 cause
    assert (rejected["event.action"], rejected["event.outcome"]) == ("call-reject", "failure")
    assert rejected["uc.call.disconnect_cause"] == "CCM_SIP_503_SERVICE_UNAVAILABLE"
    assert rejected["uc.call.disconnect_side"] == "destination"
    assert rejected["uc.sip.status_code"] == 503
    assert rejected["uc.vendor.lastRedirectRedirectReason_text"] == "Recording"
    assert rejected["source.ip"] == "10.248.64.14"  # 239138826, little-endian
    # connected call, cleared normally by the originator
    assert (ended["event.action"], ended["event.outcome"]) == ("call-end", "success")
    assert ended["@timestamp"] == "2025-04-18T16:32:21Z"
    assert ended["uc.call.setup_time"] == "2025-04-18T16:32:08Z"
    assert ended["uc.call.connect_time"] == "2025-04-18T16:32:10Z"
    assert (ended["uc.call.duration"], ended["event.duration"]) == (11.0, 11_000_000_000)
    assert (ended["source.ip"], ended["destination.ip"]) == ("10.248.64.14", "10.248.64.17")
    assert (ended["uc.call.caller"], ended["uc.call.callee"]) == ("5033466594", "5033466593")
    assert ended["uc.call.id"] == "cucmOHSUtest/2-25447"
    assert ended["uc.call.disconnect_cause"] == "Normal call clearing"
    assert ended["user.name"] == "rubbleb"
    assert ended["uc.device.name"] == "SEPCC7F750586B7"
    assert ended["uc.vendor.destMediaTransportAddress_IP"] == "10.248.64.17"  # 289470474
    assert ended["uc.media.codec"] == "G711mu-law 64k"


def test_cmr_sample_links_to_its_cdr() -> None:
    (media,) = _events("cmr_samples.csv")
    assert (media["event.action"], media["event.code"]) == ("media-end", "CMR")
    assert media["uc.call.id"] == "cucmOHSUtest/2-25447"  # same global call id as the CDR
    assert media["uc.call.leg_id"] == "47874239"  # = the CDR's origLegCallIdentifier
    assert (media["uc.media.packets_out"], media["uc.media.packets_in"]) == (559, 555)
    assert (media["uc.media.delay_ms"], media["uc.media.codec"]) == (1.0, "G.711 u-la")
    assert media["uc.vendor.varVQMetrics.VoPktDis"] == "1"
    assert "uc.media.mos" not in media  # no MLQK in this phone's metrics


@pytest.mark.parametrize(("value", "ip"), [
    ("-1062731510", "10.1.168.192"),
    ("-1139627840", "192.168.18.188"),  # Cisco's CDR guide example
    ("991078592", "192.168.18.59"),     # Cisco's CallManager 3.0 guide example
    ("239138826", "10.248.64.14"),      # the sample, cross-checked with origIpv4v6Addr
])
def test_integer_ip_decoding(value: str, ip: str) -> None:
    names, _types, row = _lines("cdr_samples.csv")[:3]
    header = names.split(",")
    values = row.split(",")
    values[header.index('"origIpAddr"')] = value
    values[header.index('"origIpv4v6Addr"')] = '""'
    (event,) = PARSER.parse(RawRecord(",".join(values)), _ctx_with_header(names))
    assert event["source"]["ip"] == ip


def test_columns_are_read_by_name_not_position() -> None:
    names, _, row = _lines("cdr_samples.csv")[:3]
    header = names.split(",")
    values = row.split(",")
    order = list(range(len(header)))
    order[1:] = reversed(order[1:])  # same columns, another order (the record type stays first)
    shuffled_names = ",".join(header[i] for i in order)
    shuffled_row = ",".join(values[i] for i in order)
    (plain,) = PARSER.parse(RawRecord(row), _ctx_with_header(names))
    (shuffled,) = PARSER.parse(RawRecord(shuffled_row), _ctx_with_header(shuffled_names))
    assert plain == shuffled


def test_header_and_types_lines_make_no_event() -> None:
    names, types = _lines("cmr_samples.csv")[:2]
    assert PARSER.parse(RawRecord(names), CTX) == []
    assert PARSER.parse(RawRecord(types), CTX) == []


def test_rows_without_header_are_dead_letters_that_say_so() -> None:
    row = _lines("cdr_samples.csv")[3]
    with pytest.raises(ParseError) as caught:
        PARSER.parse(RawRecord(row), CTX)
    assert caught.value.code == "no_match"
    assert "header line" in caught.value.message and "cdrRecordType" in caught.value.message


def test_column_count_mismatch_names_both_counts() -> None:
    names, _, row = _lines("cdr_samples.csv")[:3]
    with pytest.raises(ParseError) as caught:
        PARSER.parse(RawRecord(row + ',"x"'), _ctx_with_header(names))
    assert caught.value.code == "bad_field"
    assert "134 columns" in caught.value.message and "133" in caught.value.message


def test_quoted_value_with_comma() -> None:
    names, _, row = _lines("cdr_samples.csv")[:3]
    header = names.split(",")
    values = row.split(",")
    values[header.index('"authCodeDescription"')] = '"Sales, London office"'
    values[header.index('"authorizationLevel"')] = "30"
    (event,) = PARSER.parse(RawRecord(",".join(values)), _ctx_with_header(names))
    assert event["uc"]["vendor"]["authCodeDescription"] == "Sales, London office"
    assert event["uc"]["call"]["authenticated"] is True


def test_golden_rotation_case_uses_the_later_header() -> None:
    events = run_case_events(PARSER, golden_dir("cisco_cucm_cdr") / "cdr_rotation.log")
    assert [e["event.action"] for e in events] == ["call-attempt", "call-end"]
    assert_no_pipeline_errors(events)


def test_hostile_input_raises_only_parse_error() -> None:
    names = _lines("cdr_samples.csv")[0]
    ctx = _ctx_with_header(names)
    seeds = sample_lines("cisco_cucm", "*.csv")
    inputs = mutated(seeds, ',"0123456789-=; \ufffdx', 20250418, count=1500)
    mb = 1_000_000
    row = _lines("cdr_samples.csv")[3]
    inputs += [
        "," * mb,
        '"' * mb,
        "1" + "," * mb,
        '1,"' + "a" * mb,
        '"cdrRecordType",' + '"origLegCallIdentifier",' * (mb // 24),
        "INTEGER," * (mb // 8),
        row[: len(row) // 2],
        row.replace("1744993930", "\ufffd\ufffd", 1),
        '2,2,1,2,"1",1,1,1,1,1,1,1,1,1,"x","","","","' + "MLQK=;" * (mb // 6) + '"',
    ]
    assert_only_parse_error(PARSER, inputs, ctx)
    assert_only_parse_error(PARSER, inputs[-9:], CTX)
