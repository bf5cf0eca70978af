"""A file input whose glob stays empty is warned about again while it stays so, and once when it is fixed."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from tests.agenthelp import PLUGINS, events, make_config, write_lines
from ucsiem import agent as agent_module
from ucsiem.agent import Agent
from ucsiem.config import load_config
from ucsiem.parsing.registry import load_registry


def test_a_glob_that_stays_empty_is_said_again_then_once_fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(agent_module, "PATH_RECHECK_SECS", 0.3)
    logs = tmp_path / "logs"
    config = load_config(make_config(tmp_path, [str(logs / "*.log")]))
    agent = Agent(config, load_registry([PLUGINS]))

    async def run() -> None:
        task = asyncio.create_task(agent.run())
        await asyncio.sleep(1.0)  # three checks with nothing to read
        logs.mkdir()
        write_lines(logs / "a.log", 0, 3)
        await asyncio.sleep(1.5)  # the next check sees it; the input's rescan reads it
        agent.request_stop()
        await task

    with caplog.at_level(logging.INFO, logger="ucsiem.agent"):
        asyncio.run(run())
    said = [r.getMessage() for r in caplog.records if r.name == "ucsiem.agent"]
    assert said.count("An input path finds nothing to read.") == 1  # at start
    assert said.count("An input path still finds nothing to read.") >= 2
    assert said.count("An input path finds files to read now.") == 1
    last_warning = max(i for i, m in enumerate(said) if "nothing to read" in m)
    assert last_warning < said.index("An input path finds files to read now.")
    assert len(events(tmp_path)) == 3
