# mypy: disable-error-code="import-untyped"
# (aiokafka ships no type information; this comment stays silent if the project ignores it globally.)
"""The agent, with every TCP connection aiokafka opens counted: ``python -m tests.integration.agent_conncount
FILE run --config X`` appends one line (a monotonic time) to FILE per attempt, bootstrap or broker, failed or not.

``UCSIEM_TEST_UNPACED=1`` turns the Kafka output's reconnect backoff off, to measure what it saves.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from typing import Any

import aiokafka.client


def main() -> None:
    out = open(sys.argv[1], "a", buffering=1)  # noqa: SIM115 (open for the life of the process)
    create_conn = aiokafka.client.create_conn

    async def counted(*args: Any, **kwargs: Any) -> Any:
        out.write(f"{time.monotonic():.4f}\n")
        return await create_conn(*args, **kwargs)

    aiokafka.client.create_conn = counted
    if os.environ.get("UCSIEM_TEST_UNPACED"):
        import ucsiem.outputs.aiokafka_hooks

        # kafka.py calls the hook through its module: an unpaced client for the comparison
        ucsiem.outputs.aiokafka_hooks.pace_reconnects = lambda client: ucsiem.outputs.aiokafka_hooks.ReconnectPacing()
    sys.argv = ["ucsiem", *sys.argv[2:]]
    runpy.run_module("ucsiem", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
