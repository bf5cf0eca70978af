"""kill -9 at several points of a large file: every line delivered, duplicates only from in-flight batches."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.agenthelp import children, delivered, events, make_config, run_once, seq_counts, start, wait_for, write_lines

TOTAL = 300_000
BATCH = 1000
IN_FLIGHT = 4


def test_sigkill_at_several_points_loses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "big.log"
    log.parent.mkdir()
    write_lines(log, 0, TOTAL, text="x" * 80)
    config = make_config(tmp_path, [str(log)], workers=2,
                         pipeline={"batch_max_records": BATCH, "max_batches_in_flight": IN_FLIGHT})
    kills = 0
    for fraction in (0.1, 0.35, 0.6, 0.85):
        proc = start(config)
        wait_for(lambda f=fraction: delivered(tmp_path) >= TOTAL * f, timeout=120, what=f"{fraction:.0%} delivered")
        workers = children(proc.pid)
        assert workers, "the agent runs its parsers in worker processes"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        wait_for(lambda w=workers: not any(Path(f"/proc/{pid}").exists() for pid in w), timeout=10,
                 what="parse workers to exit with the killed agent")
        kills += 1
    final = run_once(config)  # reads to the end and exits: the count below is final
    assert final.returncode == 0, final.stderr

    counts = seq_counts(tmp_path)
    missing = [i for i in range(TOTAL) if counts[i] == 0]
    assert not missing, f"{len(missing)} lines lost after {kills} kills, first {missing[:10]}"
    duplicates = sum(counts.values()) - TOTAL
    # Re-read after a kill: what was read but not yet committed, i.e. the batches in flight plus the one
    # being committed when the process died.
    bound = kills * (IN_FLIGHT + 2) * BATCH
    assert duplicates <= bound, f"{duplicates} duplicates after {kills} kills exceeds the in-flight bound {bound}"
    # a write torn by the kill was cut off at restart: every line of the output is a whole event
    assert all(e["event"]["dataset"] == "test.lines" for e in events(tmp_path))

