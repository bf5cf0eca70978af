"""`ucsiem rules list` and `ucsiem rules test`: the shipped pack by default, --rules, alerts on stdout, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ucsiem.cli import main, shipped_rules
from ucsiem.correlate import load_rules

CASES = Path(__file__).parent / "cases"


def test_shipped_pack_is_found_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pack = shipped_rules()
    assert (pack / "uc" / "sip_bruteforce.yml").is_file()
    assert len(load_rules([pack]).correlations) >= 10


def test_rules_list_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["ID", "TYPE", "LEVEL"]
    row = next(line for line in out if "SIP registration brute force from one source" in line)
    pack = load_rules([shipped_rules()])
    rule_id = next(c.meta.key for c in pack.correlations if c.meta.name == "sip_bruteforce_source")
    assert row.split()[:3] == [rule_id, "event_count", "high"]
    assert row.endswith("sip_bruteforce.yml]")
    assert main(["rules", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert by_name["sip_bruteforce_source"]["type"] == "event_count"
    assert by_name["sip_bruteforce_source"]["level"] == "high"
    assert by_name["sign_in_new_country"]["type"] == "first_seen"
    assert by_name["call_volume_spike"]["source"].endswith("call_volume.yml")


def test_rules_test_prints_the_alerts(capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES / "sip_bruteforce" / "positive-sip_bruteforce_source-ten-in-five-minutes.ndjson"
    quiet = CASES / "sip_bruteforce" / "negative-sip_bruteforce_source-user-mistypes-twice.ndjson"
    assert main(["rules", "test", str(case), str(quiet)]) == 0
    captured = capsys.readouterr()
    alerts = [json.loads(line) for line in captured.out.splitlines()]
    assert {a["rule"]["name"] for a in alerts} == {"SIP registration brute force from one source"}
    assert alerts[-1]["source"]["ip"] == "203.0.113.60"
    assert alerts[-1]["uc"]["alert"]["count"] == 10
    assert alerts[-1]["threat"]["tactic"]["name"] == ["Credential Access"]
    summary = json.loads(captured.err)
    assert summary["events"] == 13
    assert summary["alerts"] == 1
    assert summary["by_rule"] == {"SIP registration brute force from one source": 1}


def test_rules_test_with_own_rules_and_bad_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = tmp_path / "one.yml"
    rule.write_text("""
title: Any flood block
id: 5c0e6f3e-5d1a-4b8e-9a55-0f1e2d3c4b5a
logsource: {category: intrusion_detection}
detection:
  sel: {event.action: flood-block}
  condition: sel
level: low
""")
    events = tmp_path / "events.ndjson"
    case = CASES / "sip_flood" / "positive-sip_flood_block-pike-blocks.ndjson"
    events.write_bytes(case.read_bytes() + b"not json\n[1]\n")
    assert main(["rules", "test", "--rules", str(rule), str(events)]) == 0
    captured = capsys.readouterr()
    assert {json.loads(line)["rule"]["name"] for line in captured.out.splitlines()} == {"Any flood block"}
    assert json.loads(captured.err)["unreadable_lines"] == 2


def test_bad_rule_file_is_an_error_listing_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("""
title: Typo in a field
id: 0b5e8a43-3c8f-4f0a-9d2e-6f7a8b9c0d1e
logsource: {category: authentication}
detection:
  sel: {event.actoin: sip-register}
  condition: sel
---
title: Unknown reference
id: 9d7a1f2b-4e3c-4b5a-8c6d-7e8f9a0b1c2d
correlation: {type: event_count, rules: [nowhere], group-by: [source.ip], timespan: 5m, condition: {gte: 3}}
""")
    assert main(["rules", "list", "--rules", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "event.actoin" in err and "nowhere" in err and str(bad) in err
    events = tmp_path / "e.ndjson"
    events.write_text("{}\n")
    assert main(["rules", "test", "--rules", str(bad), str(events)]) == 1
    assert capsys.readouterr().out == ""


def test_installed_wheel_ships_the_pack(tmp_path: Path) -> None:
    """A plain install finds the pack as `ucsiem_rules` (run with -S so the editable install cannot help)."""
    import subprocess
    import sys
    import sysconfig
    import zipfile

    repo = Path(__file__).resolve().parents[2]
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(repo)], capture_output=True, text=True, check=False,
                           timeout=300, cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp_path / "dist").glob("ucsiem-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"ucsiem_rules/uc/{p.name}" for p in (repo / "rules" / "uc").glob("*.yml")}
    assert shipped and shipped <= names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {"PYTHONPATH": f"{site}:{sysconfig.get_paths()['purelib']}", "PATH": "/usr/bin:/bin"}
    listed = subprocess.run([sys.executable, "-S", "-m", "ucsiem", "rules", "list", "--json"], capture_output=True,
                            text=True, check=False, timeout=120, cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    sources = {json.loads(line)["source"] for line in listed.stdout.splitlines()}
    assert sources == {str(site / name) for name in shipped}
