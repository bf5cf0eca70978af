"""Telling systemd what the agent is doing: `sd_notify` over `NOTIFY_SOCKET`, and its watchdog.

The protocol is a datagram of `KEY=VALUE` lines to the socket systemd names in `NOTIFY_SOCKET` (a path,
or `@name` for the abstract namespace): `READY=1` once inputs and outputs are up, `STATUS=...` for
`systemctl status`, `RELOADING=1` / `READY=1` around a reload, `STOPPING=1` on drain, `WATCHDOG=1` at
least every `WATCHDOG_USEC` (petted from the event loop, so a stuck loop is restarted). Plain sockets:
no libsystemd binding needed for six lines of protocol. Outside systemd every call does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

log = logging.getLogger("ucsiem.service")


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_secs = _watchdog_secs(env)

    @property
    def active(self) -> bool:
        return self.address is not None

    def send(self, **fields: str | int) -> bool:
        """`send(READY=1, STATUS="...")`; False when not under systemd or the socket is gone (never raises)."""
        if self.address is None:
            return False
        text = "\n".join(f"{key}={_one_line(value)}" for key, value in fields.items())
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(text.encode(), self.address)
        except OSError as exc:
            log.warning("Cannot notify systemd.", extra={"socket": str(self.address), "error": str(exc)})
            return False
        return True

    def ready(self, status: str) -> bool:
        return self.send(READY=1, STATUS=status)

    def reloading(self) -> bool:
        # MONOTONIC_USEC lets systemd (Type=notify-reload) tell this reload from an older one
        return self.send(RELOADING=1, MONOTONIC_USEC=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)

    def stopping(self, status: str) -> bool:
        return self.send(STOPPING=1, STATUS=status)

    def status(self, status: str) -> bool:
        return self.send(STATUS=status)

    async def pet_watchdog(self) -> None:
        """Runs until cancelled: WATCHDOG=1 at half the interval systemd asked for."""
        if self.watchdog_secs is None or self.address is None:
            return
        while True:
            self.send(WATCHDOG=1)
            await asyncio.sleep(self.watchdog_secs / 2)


def _address(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):  # abstract namespace
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock and other forms: not supported, and not used by a local service


def _watchdog_secs(env: os._Environ[str] | dict[str, str]) -> float | None:
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None  # meant for another process (a parent that execs us)
    return int(usec) / 1_000_000


def _one_line(value: str | int) -> str:
    return str(value).replace("\n", " ")
