"""A plain (non-editable) install carries the agent, the built-in parsers and the mappings.

The wheel is built from the working tree and run with `python -S` so that the editable install of the
development environment cannot stand in for it.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_contains_parsers_and_mappings_and_runs(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, check=False,
                           timeout=300, cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp_path / "dist").glob("ucsiem-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("ucsiem/cli.py", "ucsiem/py.typed", "ucsiem_parsers/cisco_expressway/__init__.py",
                     "ucsiem_parsers/audiocodes_sbc/__init__.py", "ucsiem_mappings/fields.md",
                     "ucsiem_mappings/elasticsearch/index-template-ucsiem.json"):
        assert expected in names, f"{expected} missing from {wheel.name}"
    assert any(n.startswith("ucsiem_parsers/cisco_expressway/tests/") and n.endswith(".log") for n in names)
    assert not any(n.startswith(("tests/", "parsers/", "bench/")) for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    deps = sysconfig.get_paths()["purelib"]  # third-party deps only; -S skips the editable-install hook
    env = {"PYTHONPATH": f"{site}:{deps}", "PATH": "/usr/bin:/bin"}
    demo = subprocess.run([sys.executable, "-S", "-m", "ucsiem", "demo", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, check=False, timeout=300, cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    where = subprocess.run([sys.executable, "-S", "-c", "import ucsiem, ucsiem_parsers; print(ucsiem.__file__)"],
                           capture_output=True, text=True, check=False, env=env, cwd=tmp_path)
    assert where.stdout.startswith(str(site)), where.stdout
    assert (tmp_path / "demo" / "events.ndjson").stat().st_size > 0
