"""Start position, vanished files, damaged checkpoints, output rotation and torn writes, JSON self-logging."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson

from tests.agenthelp import delivered, events, make_config, run_once, seq_counts, start, stop, wait_for, write_lines
from ucsiem.config import FileOutputConfig
from ucsiem.outputs.file import FileOutput, rotated_files


def test_start_at_end_skips_history_but_reads_new_lines_and_new_files(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    write_lines(logs / "old.log", 0, 100)
    config = make_config(tmp_path, [str(logs / "*.log")], extra_input={"start_at": "end"})
    proc = start(config)
    wait_for(lambda: (tmp_path / "state" / "checkpoints.json").exists(), what="first checkpoint")
    wait_for(lambda: b"old.log" in (tmp_path / "state" / "checkpoints.json").read_bytes(), what="old.log tracked")
    write_lines(logs / "old.log", 100, 110)  # appended after start: read
    write_lines(logs / "new.log", 200, 205)  # a file that appears later: read from its beginning
    wait_for(lambda: delivered(tmp_path) >= 15, what="new lines")
    stop(proc)
    assert sorted(seq_counts(tmp_path)) == [*range(100, 110), *range(200, 205)]


def test_file_gone_while_down_is_forgotten_with_a_warning(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    write_lines(log, 0, 10)
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    assert run_once(config).returncode == 0
    log.unlink()
    second = run_once(config)
    assert second.returncode == 0, second.stderr
    assert "A file read before is gone" in second.stderr
    checkpoints = orjson.loads((tmp_path / "state" / "checkpoints.json").read_bytes())
    assert checkpoints["inputs"]["test"] == {}
    assert seq_counts(tmp_path) == dict.fromkeys(range(10), 1)


def test_damaged_checkpoints_are_a_clear_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, [str(tmp_path / "*.log")])
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "checkpoints.json").write_text('{"version": 1, "inputs": {"test": {"x": ')
    proc = run_once(config)
    assert proc.returncode == 1
    assert "checkpoint" in proc.stderr and "damaged" in proc.stderr and "Traceback" not in proc.stderr


def test_positions_saved_under_the_former_name_are_resumed_after_an_upgrade(tmp_path: Path) -> None:
    """An agent that saved its positions as registry.json (before the rename) is followed by one that reads
    them: nothing is read again, and the positions move to checkpoints.json."""
    log = tmp_path / "a.log"
    write_lines(log, 0, 10)
    config = make_config(tmp_path, [str(log)])
    assert run_once(config).returncode == 0
    state = tmp_path / "state"
    (state / "checkpoints.json").rename(state / "registry.json")  # what the agent before the rename left
    write_lines(log, 10, 15)
    second = run_once(config)
    assert second.returncode == 0, second.stderr
    assert "former file registry.json" in second.stderr
    assert seq_counts(tmp_path) == dict.fromkeys(range(15), 1)
    assert (state / "checkpoints.json").exists() and not (state / "registry.json").exists()


def test_agent_logs_are_json_lines(tmp_path: Path) -> None:
    write_lines(tmp_path / "a.log", 0, 3)
    proc = run_once(make_config(tmp_path, [str(tmp_path / "a.log")]))
    records = [json.loads(line) for line in proc.stderr.splitlines()]
    messages = {r.get("message") for r in records}
    assert {"Agent started.", "Reading new file.", "Agent stopped."} <= messages
    # the counters once: the summary, the last line (not also in the "Agent stopped." record)
    assert sum('"records": 3' in line for line in proc.stderr.splitlines()) == 1
    assert records[-1]["records"] == 3 and "stats" not in records[-2], records[-2:]
    started = next(r for r in records if r.get("message") == "Agent started.")
    assert started["level"] == "INFO" and started["time"].endswith("+00:00") and started["inputs"] == ["test"]


def test_output_rotates_by_size_and_keeps_every_event(tmp_path: Path) -> None:
    write_lines(tmp_path / "a.log", 0, 3000)
    config = make_config(tmp_path, [str(tmp_path / "a.log")], pipeline={"batch_max_records": 100})
    text = config.read_text().replace("path: " + str(tmp_path / "out" / "events.ndjson"),
                                      "path: " + str(tmp_path / "out" / "events.ndjson") + "\n  max_bytes: 100000\n"
                                      "  max_files: 50")
    config.write_text(text)
    assert run_once(config).returncode == 0
    files = rotated_files(tmp_path / "out" / "events.ndjson", 50)
    assert len(files) > 5
    assert all(f.stat().st_size <= 100_000 for f in files)
    order = [int(e["labels"]["seq"]) for e in events(tmp_path)]
    assert order == list(range(3000))  # oldest file first, nothing lost or repeated


def test_torn_last_line_is_cut_at_start(tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(b'{"a":1}\n{"b":2}\n{"c":')  # a crash in the middle of a write
    output = FileOutput(FileOutputConfig(path=path))

    async def main() -> None:
        await output.start()
        await output.send([b'{"c":3}'])
        await output.close()

    asyncio.run(main())
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\n{"c":3}\n'


def test_cdr_header_survives_a_restart(tmp_path: Path) -> None:
    """AudioCodes sends its CDR header lines once: rows read after a restart still use them (they are
    saved with the file position). The events must equal those of reading the file in one go."""
    case = Path(__file__).resolve().parents[2] / "parsers" / "audiocodes_sbc" / "tests" / "cdr_custom_header.log"
    lines = case.read_text().splitlines(keepends=True)[:7]  # 3 header lines, 3 call rows, 1 media row
    assert sum("ReportType" in x for x in lines[:3]) == 3

    def shipped(folder: Path, parts: list[list[str]]) -> list[dict[str, object]]:
        folder.mkdir()
        log = folder / "cdr.log"
        config = make_config(folder, [str(log)], parser="audiocodes_sbc")
        for part in parts:  # the agent runs once per part: a restart between them
            with log.open("a") as fh:
                fh.write("".join(part))
            assert run_once(config).returncode == 0
        return [{k: v for k, v in e.items() if k not in ("log",)} | {"event": {**e["event"], "ingested": None}}
                for e in events(folder)]

    in_one_go = shipped(tmp_path / "one", [lines])
    with_restart = shipped(tmp_path / "two", [lines[:4], lines[4:]])
    assert len(in_one_go) == 4
    assert not any("cdr_default_header" in e.get("tags", []) for e in in_one_go)  # type: ignore[operator]
    assert with_restart == in_one_go
