"""The agent's own logs: one JSON object per line on stderr (journald keeps them as they are)."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                                       rename_fields={"levelname": "level", "name": "logger"}))
    root = logging.getLogger("ucsiem")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # The client libraries' own warnings (a broker going away, a node refusing) in the same JSON stream.
    for name in ("aiokafka", "kafka", "elastic_transport", "elasticsearch"):
        lib = logging.getLogger(name)
        lib.handlers[:] = [handler]
        lib.setLevel(max(logging.WARNING, root.level))
        lib.propagate = False
