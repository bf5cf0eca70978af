"""The Kamailio + SIPp lab shared by the end-to-end tests of this folder.

Debian's `kamailio` runs `kamailio/kamailio.cfg` on 127.0.0.1 (a port of its own, in the foreground,
logging to stderr: the `-E` console form, redirected to a file). SIPp (`sip-tester`) plays user agents,
each from its own loopback address, so the events' `source.ip` tells them apart. Every process started
here is killed at the end of the test (the `lab` fixture in `conftest.py`).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent / "kamailio"
REALM = "example.com"
# Where calls to telephone numbers go when a test starts no gateway: the discard port, nothing answers.
NO_GATEWAY = "127.0.0.1:9"


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found is None:
        pytest.fail(f"`{name}` is not installed: run `bash scripts/system-packages.sh` (Debian: kamailio, sip-tester)")
    return found


def _module_dir() -> Path:
    found = sorted(Path("/usr/lib").glob("*/kamailio/modules")) + sorted(Path("/usr/lib").glob("kamailio/modules"))
    if not found:
        pytest.fail("no Kamailio module directory under /usr/lib: is Debian's `kamailio` package installed?")
    return found[0]


def free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    """Kamailio answers a bare OPTIONS (with 405: the script logs nothing for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()[1]
        sock.settimeout(0.3)
        probe = (f"OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKprobe{time.monotonic_ns()}\r\n"
                 f"From: <sip:probe@{REALM}>;tag=probe\r\nTo: <sip:probe@{REALM}>\r\n"
                 f"Call-ID: probe-{time.monotonic_ns()}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                 "Content-Length: 0\r\n\r\n")
        sock.sendto(probe.encode(), ("127.0.0.1", port))
        try:
            return sock.recv(4096).startswith(b"SIP/2.0 ")
        except OSError:
            return False


class Lab:
    """Kamailio on its own port, SIPp user agents around it; every process is stopped at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_udp_port("127.0.0.1")
        self.log = tmp / "kamailio.log"
        self.sipp = tool("sipp")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.kamailio: subprocess.Popen[bytes] | None = None

    def start_kamailio(self, gateway: str = NO_GATEWAY) -> None:
        """`gateway` (host:port) takes the calls to telephone numbers."""
        config = (HERE / "kamailio.cfg").read_text()
        config = (config.replace("@PORT@", str(self.port)).replace("@MPATH@", f"{_module_dir()}/")
                  .replace("@GATEWAY@", gateway))
        cfg = self.tmp / "kamailio.cfg"
        cfg.write_text(config)
        with self.log.open("ab") as err, (self.tmp / "kamailio.out").open("ab") as out:
            self.kamailio = subprocess.Popen(
                [tool("kamailio"), "-f", str(cfg), "-DD", "-E", "-w", str(self.tmp), "-P", str(self.tmp / "k.pid")],
                stdout=out, stderr=err, start_new_session=True)
        deadline = time.monotonic() + 30
        while not _answers(self.port):
            if self.kamailio.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"Kamailio did not start (exit {self.kamailio.poll()}):\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop_kamailio(self) -> None:
        assert self.kamailio is not None
        self.kamailio.send_signal(signal.SIGTERM)
        self.kamailio.wait(timeout=30)

    def answering_phone(self, ip: str, scenario: list[str]) -> int:
        """A SIPp UAS listening on `ip` (until the end of the test); returns its port."""
        port = free_udp_port(ip)
        with (self.tmp / f"uas-{ip}.out").open("ab") as out:
            proc = subprocess.Popen([self.sipp, *scenario, "-i", ip, "-p", str(port), "-nostdin"],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return port

    def run(self, scenario: str, ip: str, *, user: str, password: str, calls: int, auth_user: str | None = None,
            rate: float | None = None, inject: Path | None = None, **keys: str) -> None:
        """`calls` runs of a scenario from `ip`, one at a time; SIPp must report every one successful.

        `user` is SIPp's service (`[service]`: the user registered, or the user or number called),
        `auth_user`/`password` the digest credentials (the auth user defaults to `user`), `rate` the calls
        per second (SIPp's default is 10), `inject` a CSV injection file (`[field0]`...), `keys` the
        scenario's `-key` values."""
        args = [self.sipp, f"127.0.0.1:{self.port}", "-sf", str(HERE / scenario), "-i", ip, "-s", user,
                "-au", auth_user or user.split(":")[0], "-ap", password, "-nostdin", "-trace_err",
                "-error_file", str(self.tmp / f"sipp-{ip}-errors.log"),
                "-m", str(calls), "-l", "1", "-timeout", "60s", "-timeout_error"]
        if rate is not None:
            args += ["-r", str(rate)]
        if inject is not None:
            args += ["-inf", str(inject)]
        for key, value in keys.items():
            args += ["-key", key, value]
        done = subprocess.run(args, capture_output=True, timeout=120, check=False, cwd=self.tmp)
        assert done.returncode == 0, (f"SIPp {scenario} from {ip} exited {done.returncode}:\n"
                                      f"{done.stdout.decode(errors='replace')[-3000:]}")

    def close(self) -> None:
        for proc in [*self.procs, *([self.kamailio] if self.kamailio else [])]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def get(event: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path of an event, None where a part is missing."""
    value: Any = event
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def count(found: list[dict[str, Any]], *keys: str) -> Counter[tuple[Any, ...]]:
    """How many events (with a source address) have each combination of the `keys`' values."""
    return Counter(tuple(get(e, k) for k in keys) for e in found if get(e, "source.ip") is not None)
