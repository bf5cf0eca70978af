"""The correlation stage in the agent process: hits from the parse workers -> Correlator -> alert documents.

Workers run the stateless detection on each event (before privacy) and send back small hits; this stage
feeds them, in batch order, to the one stateful `Correlator`. Alerts travel in the batch whose hits raised
them, so they are spooled and delivered with it; time passing (live) and the end of a `--once` run give
alert-only batches.

The correlator's state is written with the input positions, at every commit, so it is never older than
them: a restart continues an attack in progress, and an event read again (its batch was not acknowledged)
is recognised by its `event.id` and not counted twice. Alerts of batches that were not stored yet are kept
in the same file and sent again at the next start; their ids are deterministic, so a destination that
writes by id keeps each alert once.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ucsiem.correlate.config import CorrelationConfig
from ucsiem.inputs.checkpoint import write_durably
from ucsiem.schema.fast import dump_event, validate_event

if TYPE_CHECKING:
    from ucsiem.correlate.detector import Hit

log = logging.getLogger("ucsiem.correlation")
STATE_NAME = "correlation.state"
STATE_VERSION = 1


class CorrelationStage:
    def __init__(self, cfg: CorrelationConfig, data_dir: Path, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from ucsiem.correlate import Correlator, load_rules

        self.path = data_dir / STATE_NAME
        self.cfg = cfg
        self._new = partial(Correlator, load_rules(cfg.rules), cfg)
        self.correlator = self._new()
        self.clock = clock
        self._last_hit = clock()  # when hits last arrived (wall time, for `tick`)
        self._files: dict[str, set[str]] = {}  # input id -> the files (source keys) it sent hits from
        self.alerts = 0  # alert documents made (an updated alert counts again)
        self.alert_errors = 0
        self.by_rule: dict[tuple[str, str], int] = {}  # alert documents by (rule.id, rule.name), for /metrics
        self._pending: dict[int, list[bytes]] = {}  # alerts of batches not stored yet, by hold number
        self._holds = 0
        self.unsent: list[bytes] = self._load()  # alerts a previous run made but did not get stored

    def _load(self) -> list[bytes]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            state = orjson.loads(raw)
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"version {state.get('version')!r}, expected {STATE_VERSION}")
            self.correlator.restore(orjson.dumps(state["correlator"]))
            return [orjson.dumps(alert) for alert in state["pending_alerts"]]
        except Exception as exc:  # the agent must start: begin again, and keep the file for a person to see
            aside = self.path.with_name(f"{STATE_NAME}.damaged-{int(time.time())}")
            os.replace(self.path, aside)
            log.error("The correlation state cannot be read; correlation starts empty (attacks in progress are "
                      "counted from now on).", extra={"path": str(self.path), "moved_to": str(aside),
                                                      "error": f"{type(exc).__name__}: {exc}"})
            self.correlator = self._new()
            return []

    # -- alerts ----------------------------------------------------------------------------------

    def feed(self, hits: list[Hit], input_id: str, source_key: str) -> list[bytes]:
        """Hits of one batch. Each file is a source of its own: its lines are in time order, and files of
        different days read side by side (sample sets, archives) are merged by time."""
        if hits:
            self._last_hit = self.clock()
            self._files.setdefault(input_id, set()).add(source_key)
        return self._documents(self.correlator.feed(hits, source_key))

    def finish(self, input_id: str) -> list[bytes]:
        """Input `input_id` has ended (--once): the time of its files no longer holds the others back."""
        alerts = []
        for source_key in sorted(self._files.pop(input_id, ())):
            alerts += self.correlator.finish(source_key)
        return self._documents(alerts)

    def tick(self) -> list[bytes]:
        """Live tailing, called every second: while no hit arrives, event time moves on at the speed of the
        wall clock from the newest event seen, so windows and suppressions close without waiting for the
        next attack. Measured from the events' own time, not compared with the wall clock: an appliance whose
        clock is behind, or a backlog being read, loses nothing. Never used for `--once` (replay)."""
        # an input that went quiet (an appliance that logs rarely) must not hold back the busy ones
        alerts = self.correlator.retire_idle(max(self.cfg.lateness_secs, 1.0))
        newest = self.correlator.max_ts
        if math.isfinite(newest):
            idle = self.clock() - self._last_hit
            alerts += self.correlator.advance(newest + idle - self.cfg.lateness_secs)
        return self._documents(alerts)

    def flush(self) -> list[bytes]:
        """End of a --once run: every open window closes."""
        return self._documents(self.correlator.flush())

    def _documents(self, alerts: list[dict[str, Any]]) -> list[bytes]:
        docs = []
        for alert in alerts:
            try:
                docs.append(dump_event(validate_event(alert)))
            except Exception as exc:  # an engine bug: said loudly and counted, never shipped half-made
                self.alert_errors += 1
                log.error("An alert does not fit the event schema and is not sent.",
                          extra={"rule": (alert.get("rule") or {}).get("id"), "error": f"{type(exc).__name__}: {exc}"})
                continue
            rule = alert.get("rule") or {}
            key = (str(rule.get("id", "")), str(rule.get("name", "")))
            self.by_rule[key] = self.by_rule.get(key, 0) + 1
        self.alerts += len(docs)
        return docs

    def hold(self, docs: list[bytes]) -> Callable[[], None]:
        """Keep `docs` in the saved state until their batch is stored; call the result then."""
        if not docs:
            return _nothing
        self._holds += 1
        number = self._holds
        self._pending[number] = docs

        def stored() -> None:
            self._pending.pop(number, None)

        return stored

    # -- state -----------------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """Taken in the event loop, with the checkpoints snapshot; written by `save` in a thread."""
        pending = [orjson.Fragment(doc) for docs in self._pending.values() for doc in docs]
        return orjson.dumps({"version": STATE_VERSION, "correlator": orjson.Fragment(self.correlator.snapshot()),
                             "pending_alerts": pending})

    def save(self, snapshot: bytes) -> None:
        write_durably(self.path, snapshot, "the correlation state")

    def summary(self) -> dict[str, object]:
        return {"alerts": self.alerts, "alert_errors": self.alert_errors, **self.correlator.stats()}


def _nothing() -> None:
    return None
