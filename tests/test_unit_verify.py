"""`systemd-analyze verify` accepts the shipped unit (directives, Type=notify, ExecReload, capabilities).

verify checks that ExecStart's program exists, so it runs on a copy whose paths point at this checkout's
`ucsiem` (the .deb's /opt/ucsiem/bin/ucsiem is not installed here); nothing else is changed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

UNIT = Path(__file__).resolve().parents[1] / "packaging" / "ucsiem.service"


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run scripts/system-packages.sh as root"
    program = Path(sys.executable).parent / "ucsiem"
    assert program.exists(), program
    copy = tmp_path / "ucsiem.service"
    copy.write_text(UNIT.read_text().replace("/opt/ucsiem/bin/ucsiem", str(program)))
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr
