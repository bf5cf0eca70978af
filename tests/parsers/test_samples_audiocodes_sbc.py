"""AudioCodes Mediant SBC parser against the published sample lines and the benchmark corpus.

The samples (`shared/samples/audiocodes_sbc/`, beside the repository in every checkout and CI clone)
are real lines from public test fixtures and vendor manuals; each must become a normal event.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tests.parsers.samplehelp import (
    SHARED_SAMPLES,
    Event,
    assert_every_record_is_an_event,
    assert_no_pipeline_errors,
    assert_only_parse_error,
    bench_corpus_events,
    builtin_parser,
    each_file,
    events_by_line,
    header_key_of,
    mutated,
    sample_files,
    sample_lines,
)
from ucsiem.errors import ParseError
from ucsiem.goldens import run_case_events
from ucsiem.parsing.contract import ParseContext

PARSER = builtin_parser("audiocodes_sbc")
header_key = header_key_of(PARSER)
SAMPLES = SHARED_SAMPLES / "audiocodes_sbc"
FILES = sample_files("audiocodes_sbc")

# (file name, 1-based line) -> why the line is not a log record. None today: every published line,
# including the SIP/SDP continuation packet and the prefix-less CDR rows, is a record.
NOT_LOG_RECORDS: dict[tuple[str, int], str] = {}


def _by_line(name: str) -> dict[int, Event]:
    """Events keyed by the 1-based line they came from (log.offset -> line number)."""
    return events_by_line(PARSER, SAMPLES / name)


@each_file(FILES)
def test_every_sample_line_is_an_event(path: Path) -> None:
    lines = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    assert_every_record_is_an_event(PARSER, path, [n for n in lines if (path.name, n) not in NOT_LOG_RECORDS])


def test_sample_cdr_call_end() -> None:
    end = _by_line("samples.log")[2]
    assert end["event.action"] == "call-end"
    assert end["event.outcome"] == "success"
    assert end["event.code"] == "CALL_END"
    assert end["uc.call.duration"] == 30.0
    assert end["event.duration"] == 30_000_000_000
    assert end["uc.call.disconnect_cause"] == "GWAPP_NORMAL_CALL_CLEAR"
    assert end["uc.call.disconnect_category"] == "NORMAL_CALL_CLEAR"
    assert end["uc.call.disconnect_side"] == "remote"
    assert end["@timestamp"] == "2022-12-05T18:58:29.657000Z"  # ReleaseTime
    assert end["uc.call.id"] == "c62532:22:625"
    assert end["uc.sip.call_id"] == "4341598405122022185752@10.0.2.11"
    assert (end["source.ip"], end["destination.ip"], end["network.transport"]) == ("10.0.2.11", "10.0.2.12", "tcp")
    assert end["observer.ip"] == ["10.0.10.11"]
    assert "cdr_default_header" in end["tags"]  # the file has no header row


def test_sample_cdr_start_and_media() -> None:
    lines = _by_line("samples.log")
    start = lines[1]
    assert start["event.action"] == "call-attempt"
    assert start["uc.call.setup_time"] == "2022-12-05T18:57:52.320000Z"
    media = lines[3]
    assert media["event.action"] == "media-end"
    assert (media["uc.media.packets_in"], media["uc.media.packets_lost_remote"]) == (397, 23)
    assert media["uc.media.codec"] == "g711Ulaw64k"
    assert "uc.media.mos" not in media  # 127 = unavailable
    teams = lines[7]  # prefix-less media row of a Teams Direct Routing call: no time at all
    assert teams["uc.media.remote_ip"] == "52.112.174.44"
    assert "timestamp_from_reference" in teams["tags"]


def test_sample_free_text() -> None:
    lines = _by_line("samples.log")
    fragment = lines[5]
    assert fragment["event.action"] == "sip-message"
    assert "sip_fragment" in fragment["tags"]
    assert fragment["uc.call.id"] == "cd91eb:42:7998878"
    assert fragment["@timestamp"] == "2023-01-10T10:55:07.699000Z"  # device [Time:10-01@...], year from the receiver
    loss = lines[6]
    assert loss["event.kind"] == "metric"
    assert loss["uc.vendor.media_legs_pl_no_pl"] == 64


def test_sample_activity_log() -> None:
    lines = _by_line("samples_from_manuals.log")
    login = lines[2]
    assert login["event.action"] == "admin-login"
    assert login["event.outcome"] == "success"
    assert login["event.category"] == ["authentication"]
    assert login["user.name"] == "Admin"
    assert login["source.ip"] == "10.13.22.54"
    assert (login["destination.ip"], login["destination.port"]) == ("10.15.7.95", 80)
    assert login["log.syslog.facility.name"] == "local0"
    removed = lines[3]
    assert removed["event.action"] == "config-change"
    assert removed["event.type"] == ["deletion"]
    assert lines[1]["uc.call.id"] == "736502:31:12079"


def test_header_row_from_the_fixture_drives_later_rows(tmp_path: Path) -> None:
    # The header row the dfgs/ODP fixture quotes (CDRSyslogParserUnitTest), then a data row.
    header = ("14:35:40.053  10.0.10.11  local1.info    [S=1] |SBCReportType  |EPTyp     |SIPCallId  |SessionId  "
              "|Orig |SourceIp |SourcePort |DestIp |DestPort |TransportType |SrcURI |SrcURIBeforeMap |DstURI "
              "|DstURIBeforeMap |Duration|TrmSd|TrmReason |TrmReasonCategory|SetupTime |ConnectTime |ReleaseTime "
              "|RedirectReason |RedirectURINum |RedirectURINumBeforeMap |TxSigIPDiffServ|IPGroup (name) "
              "|SrdId (name) |SIPInterfaceId (name) |ProxySetId (name) |IpProfileId (name) |MediaRealmId (name) "
              "|DirectMedia|SIPTrmReason|SIPTermDesc |Caller |Callee |Trigger |LegId|VoiceAIConnectorName")
    assert header_key(header.encode()) == "SBCReportType"
    row = (SAMPLES / "samples.log").read_text(encoding="utf-8").splitlines()[1]
    case = tmp_path / "with_header.log"
    case.write_text(header + "\n" + row + "\n", encoding="utf-8")
    events = run_case_events(PARSER, case)
    assert len(events) == 1  # the header row itself is not an event
    assert "tags" not in events[0]  # read by the file's header, not the built-in default
    assert events[0]["uc.call.trunk"] == "SBC2"


def test_benchmark_corpus_parses(tmp_path: Path) -> None:
    events = bench_corpus_events(PARSER, "sbc", tmp_path / "sbc.log")
    assert len(events) == 2000
    assert_no_pipeline_errors(events)
    actions = Counter(e["event.action"] for e in events)
    assert set(actions) <= {"sip-message", "diagnostic", "call-end"}
    assert actions["sip-message"] > 0 and actions["call-end"] > 0


def test_hostile_input_raises_only_parse_error() -> None:
    """Mutated sample lines, random bytes and 1 MB lines: events or ParseError, nothing else."""
    ctx = ParseContext(reference_time=datetime(2025, 1, 1, 0, 10, tzinfo=UTC))
    seeds = sample_lines("audiocodes_sbc")
    alphabet = "[]|():=#@.-+ \t\\0123456789SIDBTimeUTCDec'<>_"
    rnd = random.Random(20261127)
    inputs = mutated(seeds, alphabet, rnd, count=3000)
    inputs += [bytes(rnd.getrandbits(8) for _ in range(200)).decode("utf-8", "replace") for _ in range(200)]
    mb = 1_000_000
    inputs += ["[S=1] |" + "x |" * (mb // 3), "[S=1] [BID=a:1] Activity Log: " + " was changed from '" * (mb // 20),
               "[S=1] [SID=a:1:2] " + "a=" * (mb // 2), "10:00:00.000 " + "a " * (mb // 2) + "[S=1] x",
               "[S=1] [BID=a:1] Packets-Loss report " + "[a]=1, " * (mb // 7)]
    assert_only_parse_error(PARSER, inputs, ctx)
    for text in inputs:  # the header-row recogniser sees every line too
        with contextlib.suppress(ParseError):
            header_key(text.encode("utf-8", "surrogatepass"))
