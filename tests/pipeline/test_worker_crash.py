"""A parse worker killed mid-run (OOM killer, native crash): its batches are parsed again, none lost."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.agenthelp import children, delivered, make_config, seq_counts, start, stop, wait_for, write_lines
from ucsiem.pipeline.pool import WORKER_NAME

TOTAL = 200_000


def test_killed_worker_is_replaced_and_nothing_is_lost(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    write_lines(log, 0, TOTAL, text="y" * 60)
    config = make_config(tmp_path, [str(log)], workers=2, pipeline={"batch_max_records": 500})
    proc = start(config)
    wait_for(lambda: delivered(tmp_path) >= TOTAL // 5, timeout=120, what="a fifth delivered")
    workers = [pid for pid in children(proc.pid) if WORKER_NAME.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    wait_for(lambda: delivered(tmp_path) >= TOTAL, timeout=180, what="every line after the worker died")
    stop(proc)
    counts = seq_counts(tmp_path)
    assert sorted(counts) == list(range(TOTAL))
    assert set(counts.values()) == {1}  # nothing was written twice either: the lost batch was never written
    agent_log = (tmp_path / "agent.log").read_text()
    assert "A parse worker died" in agent_log  # and the pool was replaced
    assert "Traceback" not in agent_log and "never retrieved" not in agent_log
    assert "\"worker_replacements\": 1" in agent_log
