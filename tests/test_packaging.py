"""A plain (non-editable) install carries the agent, the built-in parsers and the mappings.

The wheel is built from the working tree and run with `python -S` so that the editable install of the
development environment cannot stand in for it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]


def test_wheel_contains_parsers_and_mappings_and_runs(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, check=False,
                           timeout=900, cwd=tmp_path)  # mypyc's C compiled anew if build/ is not current: ~5 min
    assert build.returncode == 0, build.stderr
    [wheel] = (tmp_path / "dist").glob("ucsiem-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("ucsiem/cli.py", "ucsiem/py.typed", "ucsiem_parsers/cisco_expressway/__init__.py",
                     "ucsiem_parsers/audiocodes_sbc/__init__.py", "ucsiem_mappings/fields.md",
                     "ucsiem_mappings/elasticsearch/index-template-ucsiem.json",
                     "ucsiem_mappings/elasticsearch/index-template-ucsiem-alerts.json",
                     "ucsiem_mappings/kibana/ucsiem.ndjson"):
        assert expected in names, f"{expected} missing from {wheel.name}"
    assert any(n.startswith("ucsiem_parsers/cisco_expressway/tests/") and n.endswith(".log") for n in names)
    assert not any(n.startswith(("tests/", "parsers/", "bench/")) for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)
    # the hot path compiled (setup.py) as in the development install, the shared runtime at the top level
    compiled = json.loads((REPO / "ucsiem" / "compiled.json").read_text())["modules"]
    assert compiled == json.loads(zipfile.ZipFile(wheel).read("ucsiem/compiled.json"))["modules"]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for module in compiled:
        assert module.replace(".", "/") + suffix in names, module
    assert ("ucsiem__mypyc" + suffix in names) == bool(compiled)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    deps = sysconfig.get_paths()["purelib"]  # third-party deps only; -S skips the editable-install hook
    env = {"PYTHONPATH": f"{site}:{deps}", "PATH": "/usr/bin:/bin"}
    demo = subprocess.run([sys.executable, "-S", "-m", "ucsiem", "demo", "--out", str(tmp_path / "demo")],
                          capture_output=True, text=True, check=False, timeout=300, cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    where = subprocess.run([sys.executable, "-S", "-c", "import ucsiem, ucsiem.normalize as n; print(ucsiem.__file__); "
                            "print(n.__file__)"], capture_output=True, text=True, check=False, env=env, cwd=tmp_path)
    package, normalize = where.stdout.split()
    assert package.startswith(str(site)), where.stdout
    assert normalize.startswith(str(site)) and normalize.endswith(suffix if compiled else ".py"), where.stdout
    assert (tmp_path / "demo" / "events.ndjson").stat().st_size > 0


# -- the systemd unit ---------------------------------------------------------------------------------

UNIT = REPO / "packaging" / "ucsiem.service"
# SQLite gives a journal it creates as root the database's owner (fchown, result ignored). The unit runs
# as ucsiem, where SQLite skips the call; SystemCallErrorNumber=EPERM makes it fail softly as root.
ROOT_ONLY_SYSCALLS = {"fchown"}


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for raw in UNIT.read_text().splitlines():
        text = raw.strip()
        if text and not text.startswith(("#", "[")):
            key, _, value = text.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_unit_is_hardened() -> None:
    unit = unit_settings()
    expected = {"ProtectProc": ["invisible"], "ProcSubset": ["pid"], "PrivateMounts": ["yes"], "RemoveIPC": ["yes"],
                "SystemCallFilter": ["@system-service", "~@privileged @resources"],
                "SystemCallErrorNumber": ["EPERM"], "UMask": ["0077"], "StateDirectoryMode": ["0700"],
                "NoNewPrivileges": ["yes"], "ProtectSystem": ["strict"],
                "CapabilityBoundingSet": ["CAP_NET_BIND_SERVICE"], "User": ["ucsiem"]}
    assert {key: unit.get(key) for key in expected} == expected
    assert unit["ExecStartPre"][0].endswith("ucsiem check --config /etc/ucsiem/config.yml")


def test_systemd_analyze_scores_the_unit() -> None:
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: run scripts/system-packages.sh as root"
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT)],
                         capture_output=True, text=True, check=False, timeout=60)
    match = re.search(r"Overall exposure level for ucsiem.service: (\d+\.\d)", out.stdout)
    assert match is not None, out.stdout + out.stderr
    # 1.9 before ProtectProc, ProcSubset, the syscall deny list...; 1.3 without CAP_NET_BIND_SERVICE
    assert float(match[1]) <= 1.5, out.stdout


def syscall_groups() -> dict[str, set[str]]:
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    groups: dict[str, set[str]] = {}
    current = ""
    for raw in out.splitlines():
        if raw.startswith("@"):
            current = raw.strip()
            groups[current] = set()
        elif current and raw.strip() and not raw.strip().startswith("#"):
            groups[current].add(raw.strip())
    return groups


def expand(names: list[str], groups: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    for name in names:
        found |= expand(sorted(groups[name]), groups) if name.startswith("@") else {name}
    return found


def test_the_agent_makes_only_system_calls_the_unit_allows(tmp_path: Path) -> None:
    """The real agent (worker process, spool, inotify, file output) under strace: every system call it
    makes passes the unit's filter, so the filter cannot kill or starve it in production."""
    assert shutil.which("systemd-analyze") and shutil.which("strace"), (
        "systemd-analyze and strace are missing: run scripts/system-packages.sh as root")
    from tests.agenthelp import events, make_config, wait_for, write_lines

    log = tmp_path / "calls.log"
    write_lines(log, 0, 100)
    config = make_config(tmp_path, [str(log)], workers=1)
    settings = yaml.safe_load(config.read_text())
    settings["spool"] = {"enabled": True}
    config.write_text(yaml.safe_dump(settings))
    trace = tmp_path / "trace"
    with (tmp_path / "agent.log").open("wb") as agent_log:
        proc = subprocess.Popen(["strace", "-f", "-qq", "-o", str(trace), sys.executable, "-m", "ucsiem", "run",
                                 "--config", str(config)], stderr=agent_log, cwd=REPO)
    try:
        wait_for(lambda: len(events(tmp_path)) == 100, timeout=120, what="first events")
        write_lines(log, 100, 200)  # read on an inotify event
        wait_for(lambda: len(events(tmp_path)) == 200, timeout=120, what="appended events")
        os.kill(int(trace.read_text().split()[0]), signal.SIGTERM)  # the agent, strace's first process
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = trace.read_text()
    used = set(re.findall(r"^\d+\s+(\w+)\(", text, re.M))
    assert {"inotify_add_watch", "fsync"} <= used and used & {"clone", "clone3", "vfork"}  # it saw the work
    # ProcSubset=pid leaves only the process folders in /proc
    assert [p for p in re.findall(r'"(/proc/[^"]*)"', text) if not re.match(r"/proc/(self|thread-self|\d+)/", p)] == []
    groups = syscall_groups()
    unit = unit_settings()
    allowed = expand(unit["SystemCallFilter"][0].split(), groups)
    denied = expand(unit["SystemCallFilter"][1].lstrip("~").split(), groups)
    assert sorted(used - (allowed - denied) - ROOT_ONLY_SYSCALLS) == []


# -- the .deb -----------------------------------------------------------------------------------------


def run(*cmd: str, check: bool = True, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(cmd), capture_output=True, text=True, check=False, timeout=timeout, **kwargs)
    assert not check or done.returncode == 0, f"{cmd}: {done.stdout}{done.stderr}"
    return done


def installed(package: str) -> bool:
    return run("dpkg-query", "-W", "-f", "${Status}", package, check=False).stdout == "install ok installed"


def test_the_deb_runs_as_the_ucsiem_user_and_purges_cleanly(tmp_path: Path) -> None:
    """Built with this test's virtualenv (a Python under root's home) first on PATH: the package's virtualenv
    is still the system Python's, so `ucsiem check` runs as the ucsiem user; purge removes what it made."""
    assert os.geteuid() == 0, "installing a .deb needs root"
    assert not installed("ucsiem"), "ucsiem is installed on this machine; the test installs and purges its own"
    assert run("getent", "passwd", "ucsiem", check=False).returncode == 2, "a ucsiem user exists already"
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # python3 on PATH: the dev venv's (pyenv)
    assert shutil.which("python3", path=path) != "/usr/bin/python3"
    run("bash", str(REPO / "packaging" / "build-deb.sh"), env={**os.environ, "PATH": path,
                                                               "UCSIEM_DEB_OUT": str(tmp_path)},
        timeout=1200)  # compiles the hot path with mypyc (~4 min) unless build/ holds it
    [deb] = tmp_path.glob("ucsiem_*.deb")
    control = run("dpkg-deb", "--field", str(deb), "Depends").stdout
    system = Path("/usr/bin/python3").resolve()  # /usr/bin/python3.11
    assert control.strip() == f"{system.name}, systemd"
    clean = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
    try:
        run("dpkg", "-i", str(deb), env=clean)
        assert Path("/opt/ucsiem/bin/python").resolve() == system
        assert "/tmp/" not in Path("/opt/ucsiem/bin/ucsiem").read_text().splitlines()[0]
        assert Path("/opt/ucsiem/pyvenv.cfg").read_text().count("/tmp/") == 0
        user = run("getent", "passwd", "ucsiem").stdout.split(":")
        assert user[5:7] == ["/var/lib/ucsiem", "/usr/sbin/nologin\n"]
        assert Path("/etc/ucsiem/config.yml").stat().st_mode & 0o777 == 0o640
        check = run("runuser", "-u", "ucsiem", "--", "/opt/ucsiem/bin/ucsiem", "check", "--config",
                    "/etc/ucsiem/config.yml", check=False, env=clean, cwd="/")
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.startswith("/etc/ucsiem/config.yml: OK "), check.stdout
        assert "Permission denied" not in check.stderr and "Traceback" not in check.stderr, check.stderr
        version = run("runuser", "-u", "ucsiem", "--", "/usr/bin/ucsiem", "--version", env=clean, cwd="/")
        assert version.stdout.startswith("ucsiem ")
        # the hot path compiled, and loaded by the system's Python
        probe = ("import importlib.machinery as m, ucsiem.normalize as n, ucsiem_parsers.cisco_expressway.parser as p; "
                 "print([isinstance(x.__loader__, m.ExtensionFileLoader) for x in (n, p)])")
        loaded = run("runuser", "-u", "ucsiem", "--", "/opt/ucsiem/bin/python", "-c", probe, env=clean, cwd="/")
        assert loaded.stdout.strip() == "[True, True]", loaded.stdout + loaded.stderr
    finally:
        purged = run("dpkg", "--purge", "ucsiem", check=False, env=clean)
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert not installed("ucsiem")
    assert run("getent", "passwd", "ucsiem", check=False).returncode == 2, "the ucsiem user outlived the purge"
    assert run("getent", "group", "ucsiem", check=False).returncode == 2, "the ucsiem group outlived the purge"
    left = [p for p in ("/opt/ucsiem", "/etc/ucsiem", "/var/lib/ucsiem", "/var/log/ucsiem", "/usr/bin/ucsiem",
                        "/lib/systemd/system/ucsiem.service", "/usr/lib/sysusers.d/ucsiem.conf",
                        "/usr/share/doc/ucsiem") if os.path.lexists(p)]
    assert left == [], f"left behind by the purge: {left}"
