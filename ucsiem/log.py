"""The agent's own logs: one JSON object per line on stderr (journald keeps them as they are)."""

from __future__ import annotations

import logging
import sys
import time

from pythonjsonlogger.json import JsonFormatter


class OncePerWindow(logging.Filter):
    """Client libraries can log thousands of lines a second while a broker is away: let each distinct
    message through once per window, and say how many were held back."""

    def __init__(self, window_secs: float = 30.0) -> None:
        super().__init__()
        self.window = window_secs
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = time.monotonic()
        first, held = self._seen.get(key, (0.0, 0))
        if now - first < self.window:
            self._seen[key] = (first, held + 1)
            return False
        if held:
            record.suppressed_repeats = held
        self._seen[key] = (now, 0)
        if len(self._seen) > 1000:
            self._seen.clear()
        return True


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                                       rename_fields={"levelname": "level", "name": "logger"}))
    root = logging.getLogger("ucsiem")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # The client libraries' own warnings (a broker going away, a node refusing) in the same JSON stream.
    lib_handler = logging.StreamHandler(sys.stderr)
    lib_handler.setFormatter(handler.formatter)
    lib_handler.addFilter(OncePerWindow())
    for name in ("aiokafka", "kafka", "elastic_transport", "elasticsearch"):
        lib = logging.getLogger(name)
        lib.handlers[:] = [lib_handler]
        lib.setLevel(max(logging.WARNING, root.level))
        lib.propagate = False
