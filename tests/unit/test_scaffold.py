"""`ucsiem parsers new`: the template follows the shared categorisation table and the plugin API (issue 12).

The CLI round trip (generate, `ucsiem parsers test`, the plugin's own pytest) is tests/test_cli.py; the
import rule is tests/parsers/test_plugin_imports.py. This checks what the template teaches: the event's
category, type and default outcome come from `CATEGORISATION`, not written by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ucsiem.goldens import run_case_events
from ucsiem.parsing import CATEGORISATION
from ucsiem.parsing.registry import load_plugin_folder
from ucsiem.scaffold import scaffold


def test_scaffold_events_follow_the_shared_table(tmp_path: Path) -> None:
    folder = scaffold("acme_pbx", tmp_path)
    events = run_case_events(load_plugin_folder(folder).spec, folder / "tests" / "sample.log")
    assert [e["event.outcome"] for e in events] == ["success", "failure"]
    for event in events:
        table = CATEGORISATION[event["event.action"]]
        assert event["event.category"] == list(table.category), event
        assert event["event.type"][: len(table.type)] == list(table.type), event
    assert [e["event.type"][-1] for e in events] == ["allowed", "denied"]


def test_scaffold_passes_the_projects_lint(tmp_path: Path) -> None:
    folder = scaffold("acme_pbx", tmp_path)
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run([str(ruff), "check", "--no-cache", "--line-length", "120",
                           "--select", "E,F,I,B,UP,SIM,RUF", "--config", 'lint.isort.known-first-party=["ucsiem"]',
                           str(folder)], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
