"""Live tailing: multiline flush timeout, and backpressure keeping reads bounded by the pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from tests.agenthelp import PLUGINS, delivered, events, line, make_config, start, stop, wait_for, write_lines
from ucsiem.agent import Agent
from ucsiem.config import load_config
from ucsiem.inputs.file import FileInput
from ucsiem.outputs.base import OutputDefaults, SendResult
from ucsiem.parsing.registry import load_registry


def test_multiline_record_is_flushed_after_the_timeout(tmp_path: Path) -> None:
    log = tmp_path / "sip.log"
    log.write_text(line(1).rstrip("\n") + "\nSIPMSG:\n|INVITE sip:bob@example.com SIP/2.0\nVia: x\n")
    config = make_config(tmp_path, [str(log)], parser="multitest")
    proc = start(config)
    # the record has no successor line: only the flush timeout (0.5 s) can complete it
    wait_for(lambda: delivered(tmp_path) >= 1, timeout=20, what="flushed multiline record")
    with log.open("a") as fh:
        fh.write(line(2))
    wait_for(lambda: delivered(tmp_path) >= 2, timeout=20, what="second record")
    stop(proc)
    first, second = events(tmp_path)
    assert first["message"].endswith("|INVITE sip:bob@example.com SIP/2.0\nVia: x")
    assert first["log"]["flags"] == ["multiline"]
    assert second["labels"]["seq"] == "2"


class SlowOutput(OutputDefaults):
    """Stands for an output that cannot keep up; records how far reading ran ahead of delivery."""

    name = "slow"

    def __init__(self) -> None:
        self.agent: Agent | None = None
        self.max_in_flight = 0
        self.count = 0

    async def start(self) -> None:
        return None

    async def send(self, docs: Sequence[bytes]) -> SendResult:
        assert self.agent is not None
        in_flight = sum(i.in_flight for i in self.agent.inputs if isinstance(i, FileInput))
        self.max_in_flight = max(self.max_in_flight, in_flight)
        self.count += len(docs)
        await asyncio.sleep(0.01)
        return SendResult()

    async def close(self) -> None:
        return None


def test_slow_output_blocks_the_reader(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    write_lines(log, 0, 20_000)
    config_path = make_config(tmp_path, [str(log)], extra_input={"read_chunk_bytes": 8192},
                              pipeline={"batch_max_records": 50, "max_batches_in_flight": 3})
    config = load_config(config_path)

    async def main() -> tuple[int, int]:
        slow = SlowOutput()
        agent = Agent(config, load_registry([PLUGINS]), once=True, outputs=[slow])
        slow.agent = agent
        await agent.run()
        return slow.max_in_flight, slow.count

    max_in_flight, count = asyncio.run(main())
    assert count == 20_000
    # parse queue (3) + output feed (3) + the batch being handed over + one read chunk's batches
    per_chunk = 8192 // len(line(0)) // 50 + 1
    assert max_in_flight <= 3 + 3 + 1 + per_chunk, max_in_flight
