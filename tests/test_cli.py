"""The command line as a user meets it (each command in a real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import yaml

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
    missing = ucsiem("check", "--config", str(tmp_path / "nope.yml"))
    assert missing.returncode == 2
    assert missing.stderr == (f"ucsiem: {tmp_path / 'nope.yml'}: no such file "
                              "(name the configuration file with --config FILE)\n")


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
    log.write_text(line(1) + "junk\n" + line(2))
    proc = ucsiem("parse", "--explain", "--parser", "linetest", "--parser-dir", str(PLUGINS), str(log))
    docs = [orjson.loads(x) for x in proc.stdout.splitlines()]
    # each record's stages together, record after record (for writing a parser)
    assert [d["stage"] for d in docs] == ["framed", "parsed", "normalized"] * 3
    assert [d["record"] for d in docs[::3]] == [line(1).rstrip("\n"), "junk", line(2).rstrip("\n")]
    assert [d["event"]["event"]["kind"] for d in docs[2::3]] == ["event", "pipeline_error", "event"]
    assert docs[5]["event"]["event"]["original"] == "junk"


def test_parse_never_hands_terminal_controls_to_the_terminal(tmp_path: Path) -> None:
    """DEL, C1 controls (U+009B is CSI: an escape sequence on many terminals) and bidi overrides (U+202E
    shows text reversed) in a log line are written as JSON escapes: same value, inert on a terminal."""
    hostile = "evil \x9b31m \u202e gnp.exe \x7f \u2066 end"
    log = tmp_path / "x.log"
    log.write_text(line(1, hostile))
    for extra in ([], ["--explain"]):
        proc = ucsiem("parse", *extra, "--parser", "linetest", "--parser-dir", str(PLUGINS), str(log))
        assert proc.returncode == 0, proc.stderr
        assert not any(c in proc.stdout for c in "\x7f\x9b\u202e\u2066"), repr(proc.stdout)
        assert "\\u009b31m \\u202e" in proc.stdout
        docs = [orjson.loads(x) for x in proc.stdout.splitlines()]
        assert hostile in [value for doc in docs for value in strings(doc)]  # the value itself is unchanged


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_parse_explain_shows_what_a_broken_parser_returned(tmp_path: Path) -> None:
    """A parser raising something else than ParseError, or returning a number beyond 64 bits, is shown by
    --explain (it used to stop the command) and still gives a dead letter in the normalized stage."""
    plugin = tmp_path / "plugins" / "brokentest"
    plugin.mkdir(parents=True, mode=0o755)
    (tmp_path / "plugins").chmod(0o755)
    (plugin / "__init__.py").write_text(
        "from datetime import UTC, datetime\n"
        "from ucsiem.parsing.contract import ParserSpec\n"
        "def parse(record, ctx):\n"
        "    if record.text == 'raise':\n"
        "        raise KeyError('boom')\n"
        "    return [{'@timestamp': datetime(2024, 1, 1, tzinfo=UTC), 'process': {'pid': 2**70}}]\n"
        "PARSER = ParserSpec(id='brokentest', version='1', description='', vendor='T', product='B',\n"
        "                    observer_type='test', dataset='test.broken', parse=parse)\n")
    log = tmp_path / "x.log"
    log.write_text("raise\nbig\n")
    proc = ucsiem("parse", "--explain", "--parser", "brokentest", "--parser-dir", str(tmp_path / "plugins"), str(log))
    assert proc.returncode == 0, proc.stderr
    docs = [orjson.loads(x) for x in proc.stdout.splitlines()]
    parsed = [d["events"] for d in docs if d["stage"] == "parsed"]
    assert "KeyError" in parsed[0][0]["error"]
    assert parsed[1][0]["process"]["pid"] == 2**70
    normalized = [d["event"]["error"]["type"] for d in docs if d["stage"] == "normalized"]
    assert normalized == ["parser_exception", "bad_field"]


def test_parsers_list_and_builtin_goldens() -> None:
    listed = ucsiem("parsers", "list")
    assert listed.returncode == 0
    assert "cisco_expressway" in listed.stdout and "audiocodes_sbc" in listed.stdout
    tested = ucsiem("parsers", "test")
    assert tested.returncode == 0, tested.stdout
    assert " 0 failed" in tested.stdout


def test_parsers_list_shows_the_plugins_of_a_config(tmp_path: Path) -> None:
    """`parsers list --config` lists the plugins of its agent.parser_dirs; an unknown parser names that key."""
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    assert "linetest" not in ucsiem("parsers", "list").stdout
    listed = ucsiem("parsers", "list", "--config", str(config))
    assert listed.returncode == 0, listed.stderr
    assert "linetest" in listed.stdout and "cisco_expressway" in listed.stdout
    config.write_text(config.read_text().replace("parser: linetest", "parser: acme_pbx"))
    bad = ucsiem("check", "--config", str(config))
    assert bad.returncode == 2
    assert "unknown parser 'acme_pbx'" in bad.stderr and "agent.parser_dirs" in bad.stderr


def test_spool_status_says_when_the_spool_is_off(tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    off = ucsiem("spool", "status", "--config", str(config))
    assert off.returncode == 0, off.stderr
    assert off.stderr == (f"ucsiem: the spool is off in {config} (spool.enabled: false): batches go straight to "
                          "the outputs\n")
    assert orjson.loads(off.stdout) == {"spool": str(tmp_path / "state" / "spool.db"), "enabled": False,
                                        "exists": False}
    data = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**data, "spool": {"enabled": True}}))
    on = ucsiem("spool", "status", "--config", str(config))
    assert on.returncode == 0 and on.stderr == "", on.stderr
    assert orjson.loads(on.stdout)["enabled"] is True


def test_spool_status_while_the_agent_creates_the_spool_and_on_a_damaged_one(tmp_path: Path) -> None:
    """An agent starting makes the file before its tables: that is an empty spool, not a traceback (a CI run
    asked in that moment). A file that is no database is a clear error."""
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    config.write_text(yaml.safe_dump({**yaml.safe_load(config.read_text()), "spool": {"enabled": True}}))
    (tmp_path / "state").mkdir()
    spool = tmp_path / "state" / "spool.db"
    spool.touch()
    creating = ucsiem("spool", "status", "--config", str(config))
    assert creating.returncode == 0, creating.stderr
    assert orjson.loads(creating.stdout)["events"] == 0
    spool.write_bytes(b"not a database, " * 100)
    damaged = ucsiem("spool", "status", "--config", str(config))
    assert damaged.returncode == 1
    assert damaged.stderr == f"ucsiem: spool {spool}: cannot read it: file is not a database\n"


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
    # the numbers it prints are those of the file it wrote
    alert_docs = [d for d in docs if d["event"]["dataset"] == "ucsiem.alert"]
    dead = [d for d in docs if d["event"]["kind"] == "pipeline_error" and d not in alert_docs]
    said = proc.stdout.splitlines()
    assert said[0].endswith(f" and wrote {len(docs)} documents to {tmp_path / 'demo' / 'events.ndjson'}: "
                            f"{len(docs) - len(dead) - len(alert_docs)} events, {len(dead)} dead letters "
                            f"(event.kind: pipeline_error) and {len(alert_docs)} alert documents"), said[0]
    assert said[1].startswith(f"The shipped rule pack raised {len({d['event']['id'] for d in alert_docs})} alerts ")
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


def test_check_finds_what_would_stop_the_enrichment_stage(tmp_path: Path) -> None:
    """A GeoIP database that cannot be opened or a pseudonym key too short: named by `ucsiem check` (and
    `run`) before reading, not found later by every parse worker."""
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    (tmp_path / "city.mmdb").write_bytes(b"not a database")
    key = tmp_path / "pseudonym.key"
    key.write_bytes(b"short")
    key.chmod(0o600)
    data = yaml.safe_load(config.read_text())
    data["enrich"] = {"geo": {"city_db": str(tmp_path / "city.mmdb")},
                      "privacy": {"hash_fields": ["user.name"], "hmac_key_file": str(key)}}
    config.write_text(yaml.safe_dump(data))
    bad = ucsiem("check", "--config", str(config))
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "enrich.geo.city_db" in bad.stderr
    assert "enrich.privacy.hmac_key_file: the key has 5 bytes" in bad.stderr
    key.write_bytes(b"k" * 32)
    del data["enrich"]["geo"]
    config.write_text(yaml.safe_dump(data))
    ok = ucsiem("check", "--config", str(config))
    assert ok.returncode == 0, ok.stderr


def test_check_lists_every_rule_problem_of_the_correlation_rules(tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    data = yaml.safe_load(config.read_text())
    data["correlation"] = {"rules": [str(Path(__file__).parents[1] / "rules")]}
    config.write_text(yaml.safe_dump(data))
    ok = ucsiem("check", "--config", str(config))
    assert ok.returncode == 0, ok.stderr  # the shipped pack loads

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "bad.yml").write_text(
        "title: slow\nid: 55555555-5555-4555-8555-000000000001\nlevel: low\nlogsource: {product: kamailio}\n"
        "detection:\n  sel: {user_agent.original|re: '^(a+)+$', source.nope: 1}\n  condition: sel\n")
    data["correlation"] = {"rules": ["mine"]}  # relative to the config file
    config.write_text(yaml.safe_dump(data))
    bad = ucsiem("check", "--config", str(config))
    assert bad.returncode == 2
    problems = [row for row in bad.stderr.splitlines() if row.startswith("  - correlation.rules: ")]
    assert len(problems) == 2, bad.stderr
    assert all(f"{tmp_path / 'mine' / 'bad.yml'}: slow (55555555-" in row for row in problems)
    assert any("can backtrack catastrophically" in row for row in problems)
    assert any("unknown field 'source.nope'" in row for row in problems)

    data["correlation"] = {"rules": []}
    config.write_text(yaml.safe_dump(data))
    empty = ucsiem("check", "--config", str(config))
    assert empty.returncode == 2 and "correlation.rules: name at least one rule file" in empty.stderr


def test_check_warns_about_paths_that_read_nothing(tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(tmp_path / "nowhere" / "*.log"), str(tmp_path)])
    done = ucsiem("check", "--config", str(config))
    assert done.returncode == 0, done.stderr  # a log may appear later: a warning, not an error
    assert (f"ucsiem: WARNING: inputs[0].paths[0] ({tmp_path / 'nowhere' / '*.log'}): matches no file yet (it is "
            f"read as soon as one appears); its folder {tmp_path / 'nowhere'} does not exist") in done.stderr
    assert f"inputs[0].paths[1] ({tmp_path}): is a directory; name the files in it" in done.stderr
