"""The agent side of identity: read every source, write the index the workers read, again and again.

Runs in a thread (the sources do blocking I/O) off the event loop, so a slow directory never holds up
the pipeline. A source that fails keeps its last good rows (see `build_index`); the failure is logged
with its reason and counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from ucsiem.enrich.config import EnrichConfig, IdentityConfig
from ucsiem.enrich.identity import INDEX_NAME, Record, build_index, read_source
from ucsiem.enrich.keys import NumberNormalizer
from ucsiem.errors import EnrichmentError

log = logging.getLogger("ucsiem.enrich.identity")


@dataclass
class IdentityStats:
    refreshes: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # per source
    entries: dict[str, int] = field(default_factory=dict)  # per source, in the current index
    keys: int = 0
    last_refresh: float | None = None  # epoch seconds of the last index written

    def summary(self) -> dict[str, object]:
        return {"refreshes": self.refreshes, "failures": dict(self.failures), "entries": dict(self.entries),
                "keys": self.keys, "age_secs": round(time.time() - self.last_refresh, 1)
                if self.last_refresh is not None else None}


class IdentityRefresher:
    def __init__(self, cfg: IdentityConfig, data_dir: Path, normalize: NumberNormalizer | None) -> None:
        self.cfg = cfg
        self.path = data_dir / INDEX_NAME
        self.normalize = normalize
        self.stats = IdentityStats()

    def refresh_once(self) -> None:
        """Read every source and write a new index (blocking: call it in a thread)."""
        from ucsiem import secrets

        started = time.monotonic()
        sources: list[tuple[str, list[Record] | None]] = []
        for i, source in enumerate(self.cfg.sources):
            name = source.name()
            key = f"enrich.identity.sources[{i}].password_file"

            def password(path: Path, key: str = key) -> str:
                return secrets.read_secret(path, key).decode().strip()

            try:
                records = read_source(source, password)
            except EnrichmentError as exc:
                self.stats.failures[name] = self.stats.failures.get(name, 0) + 1
                log.warning("Identity source failed; its last good copy stays in use.",
                            extra={"source": name, "error": str(exc), "failures": self.stats.failures[name]})
                records = None
            except Exception as exc:  # a bug or an odd answer: same treatment, never the agent's end
                self.stats.failures[name] = self.stats.failures.get(name, 0) + 1
                log.error("Identity source failed unexpectedly; its last good copy stays in use.",
                          extra={"source": name, "error": f"{type(exc).__name__}: {exc}"})
                records = None
            sources.append((name, records))
        report = build_index(self.path, sources, self.normalize)
        self.stats.refreshes += 1
        self.stats.entries = report.entries
        self.stats.keys = report.keys - report.shadowed_keys
        self.stats.last_refresh = time.time()
        log.info("Identity index refreshed.", extra={
            "entries": report.entries, "keys": self.stats.keys, "shadowed_keys": report.shadowed_keys,
            "failed_sources": [n for n, r in sources if r is None],
            "secs": round(time.monotonic() - started, 2)})

    async def run(self) -> None:
        """Refresh for ever, every refresh_interval_secs (the first refresh is done before reading starts)."""
        while True:
            await asyncio.sleep(self.cfg.refresh_interval_secs)
            try:
                await asyncio.to_thread(self.refresh_once)
            except OSError as exc:  # data_dir full or unwritable: the workers keep the file they have
                log.error("Cannot write the identity index; the last one stays in use.",
                          extra={"path": str(self.path), "error": str(exc)})


def number_normalizer(cfg: EnrichConfig) -> NumberNormalizer | None:
    """The same E.164 normalisation the workers use, so directory numbers and event numbers meet."""
    if cfg.phone is None:
        return None
    from ucsiem.enrich.phone import PhoneAnalyzer

    return PhoneAnalyzer(cfg.phone.home_region).normalize
