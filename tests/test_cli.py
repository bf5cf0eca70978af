"""The command line as a user meets it (each command in a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from tests.agenthelp import PLUGINS, line, make_config


def ucsiem(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ucsiem", *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=cwd)


def test_check_good_and_bad(tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    ok = ucsiem("check", "--config", str(config))
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    config.write_text(config.read_text().replace("parser: linetest", "parser: nope\n  colour: blue"))
    bad = ucsiem("check", "--config", str(config))
    assert bad.returncode == 2
    assert "inputs[0].colour: unknown key" in bad.stderr


def test_parse_prints_events_and_dead_letters(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text(line(1) + "junk\n" + line(2))
    proc = ucsiem("parse", "--parser", "linetest", "--parser-dir", str(PLUGINS), str(log))
    assert proc.returncode == 0, proc.stderr
    docs = [orjson.loads(x) for x in proc.stdout.splitlines()]
    assert [d["event"]["kind"] for d in docs] == ["event", "pipeline_error", "event"]
    assert docs[1]["event"]["original"] == "junk"
    assert '"pipeline_errors": {"no_match": 1}' in proc.stderr


def test_parse_explain_shows_each_stage(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text(line(1))
    proc = ucsiem("parse", "--explain", "--parser", "linetest", "--parser-dir", str(PLUGINS), str(log))
    stages = [orjson.loads(x)["stage"] for x in proc.stdout.splitlines()]
    assert stages == ["framed", "parsed", "normalized"]


def test_parsers_list_and_builtin_goldens() -> None:
    listed = ucsiem("parsers", "list")
    assert listed.returncode == 0
    assert "cisco_expressway" in listed.stdout and "audiocodes_sbc" in listed.stdout
    tested = ucsiem("parsers", "test")
    assert tested.returncode == 0, tested.stdout
    assert " 0 failed" in tested.stdout


def test_scaffold_gives_a_passing_plugin(tmp_path: Path) -> None:
    made = ucsiem("parsers", "new", "acme_pbx", "--dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "acme_pbx"
    assert (folder / "tests" / "sample.log-expected.json").is_file()
    tested = ucsiem("parsers", "test", str(folder))
    assert tested.returncode == 0 and "2 passed, 0 failed" in tested.stdout, tested.stdout
    own_test = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder)],
                              capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert own_test.returncode == 0, own_test.stdout
    # a broken expectation is caught
    sample = folder / "tests" / "sample.log"
    sample.write_text(sample.read_text().replace("alice", "bob"))
    assert ucsiem("parsers", "test", str(folder)).returncode == 1
    again = ucsiem("parsers", "new", "acme_pbx", "--dir", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_demo_runs_the_bundled_samples(tmp_path: Path) -> None:
    proc = ucsiem("demo", "--out", str(tmp_path / "demo"))
    assert proc.returncode == 0, proc.stderr
    docs = [orjson.loads(x) for x in (tmp_path / "demo" / "events.ndjson").read_bytes().splitlines()]
    datasets = {d["event"]["dataset"] for d in docs}
    assert {"cisco.expressway", "audiocodes.sbc"} <= datasets
    kinds = {d["event"]["kind"] for d in docs}
    assert "pipeline_error" in kinds and "event" in kinds  # the -fail samples show the dead-letter path
    again = ucsiem("demo", "--out", str(tmp_path / "demo"))
    assert again.returncode == 0
    assert len((tmp_path / "demo" / "events.ndjson").read_bytes().splitlines()) == len(docs)


def test_mappings_check_passes_on_the_repo() -> None:
    repo = Path(__file__).resolve().parents[1]
    proc = ucsiem("mappings", "check", "--out", str(repo / "mappings"))
    assert proc.returncode == 0, proc.stdout


def test_stdout_output_carries_the_events(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text(line(1) + line(2))
    config = make_config(tmp_path, [str(log)])
    config.write_text(config.read_text().replace(
        "- path: " + str(tmp_path / "out" / "events.ndjson") + "\n  type: file", "- type: stdout"))
    assert "type: stdout" in config.read_text()
    proc = ucsiem("run", "--once", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    assert [orjson.loads(x)["labels"]["seq"] for x in proc.stdout.splitlines()] == ["1", "2"]
