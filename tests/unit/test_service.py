"""sd_notify over a real datagram socket (what systemd listens on), and the watchdog interval rules."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from ucsiem.service import Notifier


def listener(path: str | bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    return sock


def test_messages_reach_a_path_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with listener(path) as sock:
        notifier = Notifier({"NOTIFY_SOCKET": path})
        assert notifier.active
        assert notifier.ready("reading 2 input(s)\ninto 1 output(s)")  # one line: a newline would end the field
        assert sock.recv(4096) == b"READY=1\nSTATUS=reading 2 input(s) into 1 output(s)"
        assert notifier.reloading()
        reloading = sock.recv(4096).decode().split("\n")
        assert reloading[0] == "RELOADING=1" and reloading[1].startswith("MONOTONIC_USEC=")
        assert notifier.stopping("draining")
        assert sock.recv(4096) == b"STOPPING=1\nSTATUS=draining"


def test_abstract_namespace_socket() -> None:
    name = f"ucsiem-test-{os.getpid()}"
    with listener(b"\0" + name.encode()) as sock:
        assert Notifier({"NOTIFY_SOCKET": f"@{name}"}).status("hello")
        assert sock.recv(4096) == b"STATUS=hello"


def test_outside_systemd_nothing_is_sent_and_nothing_fails(tmp_path: Path) -> None:
    assert not Notifier({}).active and not Notifier({}).ready("x")
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert gone.send(READY=1) is False  # logged, never raised


@pytest.mark.parametrize(("env", "expected"), [
    ({"WATCHDOG_USEC": "2000000"}, 2.0),
    ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}, 2.0),
    ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),  # meant for another process
    ({"WATCHDOG_USEC": "0"}, None),
    ({}, None),
])
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert Notifier(env).watchdog_secs == expected


def test_watchdog_is_petted_at_half_the_interval(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with listener(path) as sock:
        notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})

        async def run() -> None:
            task = asyncio.create_task(notifier.pet_watchdog())
            await asyncio.sleep(0.45)
            task.cancel()

        asyncio.run(run())
        sock.setblocking(False)
        pets = []
        while True:
            try:
                pets.append(sock.recv(4096))
            except BlockingIOError:
                break
        # the first at once, the next after 0.1 s (no upper bound: counting sleeps would test the scheduler)
        assert len(pets) >= 2 and set(pets) == {b"WATCHDOG=1"}
