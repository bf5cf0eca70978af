"""Hostile input: binary garbage, 10 MB lines, invalid UTF-8, unreadable files. Never a crash, never silent."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.agenthelp import events, line, make_config, run_once, seq_counts


def summary(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    return dict(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_garbage_and_huge_lines_are_accounted_for(tmp_path: Path) -> None:
    log = tmp_path / "bad.log"
    rnd = random.Random(7)
    garbage = bytes(rnd.randrange(256) for _ in range(5000)).replace(b"\n", b"")
    with log.open("wb") as fh:
        fh.write(line(0).encode())
        fh.write(garbage + b"\n")  # one record of binary garbage
        fh.write(b"2024-05-01T10:00:00+00:00 seq=1 caf\xe9 \xff\xfe latin-1 bytes\n")  # invalid UTF-8, parses
        fh.write(b"2024-05-01T10:00:00+00:00 seq=2 " + b"A" * 10_000_000 + b"\n")  # 10 MB line
        fh.write(line(3).encode())
        fh.write(b"no newline at the end seq=4")
    config = make_config(tmp_path, [str(log)], extra_input={"max_record_bytes": 65536})
    proc = run_once(config)
    assert proc.returncode == 0, proc.stderr
    stats = summary(proc)
    assert stats["records"] == 6
    assert stats["events"] == 4
    assert stats["pipeline_errors"] == {"no_match": 2}
    evs = events(tmp_path)
    assert len(evs) == 6
    assert seq_counts(tmp_path) == {0: 1, 1: 1, 2: 1, 3: 1}
    by_seq = {e["labels"]["seq"]: e for e in evs if e.get("labels")}
    assert by_seq["1"]["log"]["flags"] == ["invalid_utf8"]
    assert "\ufffd" in by_seq["1"]["message"]
    assert by_seq["2"]["log"]["flags"] == ["truncated"]
    assert len(by_seq["2"]["message"]) < 65536
    errors = [e for e in evs if e["event"]["kind"] == "pipeline_error"]
    last_line = log.stat().st_size - len(b"no newline at the end seq=4")
    assert {e["log"]["offset"] for e in errors} == {len(line(0)), last_line}
    assert errors[0]["event"]["original"]  # the garbage itself travels with the dead letter
    assert "invalid_utf8" in errors[0]["log"]["flags"]


DROP_PRIVILEGES = """
import os, sys
import concurrent.futures.thread, ucsiem.agent, ucsiem.cli, ucsiem.inputs.file, watchdog.observers  # while root
import warnings; warnings.simplefilter("ignore", DeprecationWarning)
import regexploit.ast.sre, regexploit.redos  # the plugin regex check (this Python's stdlib is root's only)
import ucsiem.metrics  # prometheus-client, imported by --once (its gzip import too)
os.setgroups([]); os.setgid(65534); os.setuid(65534)
sys.exit(ucsiem.cli.main(sys.argv[1:]))
"""


def test_unreadable_file_is_reported_and_others_still_read() -> None:
    """Root reads everything, so the agent drops to `nobody` after its imports: the denial is real."""
    with tempfile.TemporaryDirectory(prefix="ucsiem-perm-") as tmp:
        base = Path(tmp)
        os.chmod(base, 0o777)
        logs = base / "logs"
        logs.mkdir()
        os.chmod(logs, 0o755)  # modes set, not left to this process's umask (an in-process agent sets 077)
        (logs / "ok.log").write_text(line(1))
        os.chmod(logs / "ok.log", 0o644)
        (logs / "secret.log").write_text(line(2))
        os.chmod(logs / "secret.log", 0o600)
        config = make_config(base, [str(logs / "*.log")])
        os.chmod(config, 0o644)
        proc = subprocess.run([sys.executable, "-c", DROP_PRIVILEGES, "run", "--once", "--config", str(config)],
                              capture_output=True, text=True, timeout=120, check=False, cwd="/")
        assert proc.returncode == 0, proc.stderr
        assert "permission denied" in proc.stderr and "secret.log" in proc.stderr
        assert seq_counts(base) == {1: 1}


def test_unknown_parser_and_bad_config_are_clear_errors(tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(tmp_path / "x.log")], parser="no_such_parser")
    proc = run_once(config)
    assert proc.returncode == 2
    assert "inputs[0].parser: unknown parser 'no_such_parser'" in proc.stderr
    assert "Traceback" not in proc.stderr
    config.write_text("inputs: [}\n")
    proc = run_once(config)
    assert proc.returncode == 2 and "not valid YAML" in proc.stderr and "Traceback" not in proc.stderr


CUBE_CALL = ("Jun 14 11:15:02.983: %VOIPAAA-5-VOIP_CALL_HISTORY: CallLegType 1, ConnectionId BA55719E F8C10015 0 "
             "1B1E08, SetupTime 11:14:41.683 UTC Fri Jun 14 2024, PeerAddress 2887, DisconnectCause 10  , "
             "TransmitPackets 1510, TransmitBytes {bytes}, ReceivePackets 1509, ReceiveBytes 138828\n")
TEAMS_CALL = ('{{"id": "0f4c5a3e-1b2d-4c6e-8a9b-0d1e2f3a4b5c", "version": 1, "type": "peerToPeer", "modalities": '
              '["audio"], "lastModifiedDateTime": "2024-03-05T10:22:24Z", "startDateTime": "2024-03-05T10:14:21Z", '
              '"endDateTime": "{end}-03-05T10:14:46Z"}}\n')


def test_a_poison_record_is_a_dead_letter_and_the_records_around_it_ship(tmp_path: Path) -> None:
    """The lines that stopped the agent for ever (issue 15, item 0): a 20-digit counter (kept as text in
    uc.vendor) and a Teams call ending in year 6020 (its duration in ns beyond 64 bits: a dead letter),
    each between good records, through the real worker pool; `ucsiem parse` on the same files too."""
    cube = tmp_path / "cube.log"
    cube.write_text("".join(CUBE_CALL.format(bytes=n) for n in (1, 2, 3, 99999999999999999999, 5, 6, 7)))
    teams = tmp_path / "teams.json"
    teams.write_text("".join(TEAMS_CALL.format(end=y) for y in (2024, 2024, 2024, 6020, 2024, 2024, 2024)))
    config = make_config(tmp_path, [str(cube)], parser="cisco_cube", workers=1)
    proc = run_once(config)
    assert proc.returncode == 0, proc.stderr
    assert summary(proc)["records"] == 7 and summary(proc)["events"] == 7
    vendor = [e["uc"]["vendor"]["TransmitBytes"] for e in events(tmp_path)]
    assert vendor == [1, 2, 3, "99999999999999999999", 5, 6, 7]

    done = subprocess.run([sys.executable, "-m", "ucsiem", "parse", "--parser", "ms_teams_callrecords", str(teams)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    docs = [json.loads(raw) for raw in done.stdout.splitlines() if raw]
    assert [d["event"]["kind"] for d in docs] == ["event"] * 3 + ["pipeline_error"] + ["event"] * 3
    assert docs[3]["error"]["type"] == "bad_field" and "6020" in docs[3]["event"]["original"]
