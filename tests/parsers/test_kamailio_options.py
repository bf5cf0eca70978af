"""Kamailio/OpenSIPS parser options: the operator's xlog event words and key names (issue 12).

The golden cases `kamailio/tests/xlog_operator.log` (defaults) and `xlog_operator_mapped.log` (with
`-config.yml` options) show the mapping; this checks the options themselves and how a bad one is reported.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from ucsiem.parsing import XlogOptions
from ucsiem.parsing.contract import ParseContext, ParserSpec, RawRecord
from ucsiem_parsers.kamailio import PARSER as KAMAILIO
from ucsiem_parsers.opensips import PARSER as OPENSIPS

LINE = ("Mar  5 12:10:00 sip1 kamailio[2410]: NOTICE: <script>: AUTH_FAILED method=REGISTER src_ip=203.0.113.66 "
        "auth_user=1001 callid=4f1c9a@203.0.113.66")
CTX = ParseContext(reference_time=datetime(2024, 3, 5, 12, tzinfo=UTC))


def _parse(line: str, options: dict[str, Any] | None = None, spec: ParserSpec = KAMAILIO) -> dict[str, Any]:
    assert spec.options is not None
    ctx = ParseContext(reference_time=CTX.reference_time, options=spec.options.model_validate(options or {}))
    events = spec.parse(RawRecord(line), ctx)
    assert len(events) == 1
    return events[0]


def test_both_parsers_take_the_options() -> None:
    assert KAMAILIO.options is XlogOptions
    assert OPENSIPS.options is XlogOptions


def test_default_maps_the_keys_of_an_unknown_word() -> None:
    event = _parse(LINE)
    assert event["event"]["action"] == "diagnostic"
    assert event["event"]["code"] == "AUTH_FAILED"
    assert event["source"] == {"ip": "203.0.113.66"}
    assert event["user"] == {"name": "1001"}
    assert event["uc"]["sip"] == {"method": "REGISTER", "call_id": "4f1c9a@203.0.113.66"}


def test_configured_word_and_keys() -> None:
    options = {"event_words": {"auth-failed": {"action": "SIP_AUTH", "outcome": "failure"}},
               "keys": {"Peer": "source.ip", "acct": "user.name"}}
    event = _parse(LINE.replace("src_ip=", "peer=").replace("auth_user=", "ACCT="), options)
    ev = event["event"]
    assert (ev["action"], ev["outcome"], ev["category"]) == ("sip-auth", "failure", ["authentication"])
    assert event["source"] == {"ip": "203.0.113.66"}
    assert event["user"] == {"name": "1001"}


def test_opensips_line_with_a_configured_word() -> None:
    line = "Mar  5 11:00:08 sbc1 opensips[5006]: NOTICE: AUTH_FAILED si=203.0.113.80 au=2001 rm=REGISTER"
    event = _parse(line, {"event_words": {"AUTH_FAILED": {"action": "sip-auth", "outcome": "failure"}}}, OPENSIPS)
    assert event["event"]["action"] == "sip-auth"
    assert event["source"] == {"ip": "203.0.113.80"}
    assert event["user"] == {"name": "2001"}


@pytest.mark.parametrize(("options", "loc", "words"), [
    ({"keys": {"peer": "source.adress"}}, ("keys",), ["peer", "'source.adress'", "source.ip"]),
    ({"event_words": {"AUTH_FAILED": {"action": "login-failed"}}}, ("event_words", "AUTH_FAILED", "action"),
     ["'login-failed'", "sip-auth"]),
    ({"event_words": {"AUTH_FAILED": {"action": "sip-auth", "outcome": "bad"}}},
     ("event_words", "AUTH_FAILED", "outcome"), ["success"]),
    ({"event_word": {}}, ("event_word",), ["Extra inputs"]),
    ({"keys": {"two words": "user.name"}}, ("keys",), ["'two words'"]),
])
def test_invalid_options_name_the_field(options: dict[str, object], loc: tuple[str, ...], words: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        XlogOptions.model_validate(options)
    errors = info.value.errors()
    assert errors[0]["loc"] == loc
    for word in words:
        assert word in errors[0]["msg"]


def test_config_check_reports_the_bad_option(tmp_path: Path) -> None:
    kam: dict[str, Any] = {"id": "kam", "paths": [str(tmp_path / "*.log")], "parser": "kamailio",
                           "parser_options": {"keys": {"peer": "source.adress"}}}
    config = {"agent": {"data_dir": str(tmp_path / "state")}, "inputs": [kam],
              "outputs": [{"type": "file", "path": str(tmp_path / "out.ndjson")}]}
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "ucsiem", "check", "--config", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert "inputs[0].parser_options.keys: Value error, peer: 'source.adress' is not a field" in proc.stderr
    kam["parser_options"] = {"keys": {"peer": "source.ip"},
                             "event_words": {"AUTH_FAILED": {"action": "sip-auth", "outcome": "failure"}}}
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "ucsiem", "check", "--config", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
