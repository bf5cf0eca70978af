"""The agent side of identity: read every source, write the index the workers read, again and again.

Each refresh runs in a short-lived child process: reading a large directory (ldap3 decodes every entry
in Python) and normalising its numbers takes seconds of CPU, which in the agent's process would hold
the interpreter lock away from the pipeline; the child also returns its memory when it ends. A source
that fails keeps its last good rows (see `build_index`); the failure is logged with its reason and
counted here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ucsiem.enrich.config import EnrichConfig, IdentityConfig
from ucsiem.enrich.identity import FORMER_INDEX_NAMES, INDEX_NAME, Record, build_index, index_info, read_source
from ucsiem.enrich.keys import NumberNormalizer
from ucsiem.errors import EnrichmentError

log = logging.getLogger("ucsiem.enrich.identity")


@dataclass
class RefreshResult:
    entries: dict[str, int]  # per source, in the new index
    keys: int
    shadowed_keys: int
    failures: dict[str, str]  # source -> why (its last good rows kept)
    secs: float


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


def build_from_sources(cfg: IdentityConfig, path: Path, normalize: NumberNormalizer | None,
                       fingerprint: str = "") -> RefreshResult:
    """Read every source and write a new index at `path` (blocking)."""
    from ucsiem import secrets

    started = time.monotonic()
    sources: list[tuple[str, list[Record] | None]] = []
    failures: dict[str, str] = {}
    for i, source in enumerate(cfg.sources):
        key = f"enrich.identity.sources[{i}].password_file"

        def password(secret: Path, key: str = key) -> str:
            return secrets.read_secret(secret, key).decode().strip()

        records: list[Record] | None
        try:
            records = read_source(source, password)
        except EnrichmentError as exc:
            failures[source.name()], records = str(exc), None
        except Exception as exc:  # a bug or an odd answer: same treatment, never the agent's end
            failures[source.name()], records = f"{type(exc).__name__}: {exc}", None
        sources.append((source.name(), records))
    report = build_index(path, sources, normalize, fingerprint)
    return RefreshResult(report.entries, report.keys - report.shadowed_keys, report.shadowed_keys, failures,
                         round(time.monotonic() - started, 2))


def _refresh_in_child(enrich: dict[str, Any], path: str, fingerprint: str) -> RefreshResult:
    """The fingerprint comes from the agent (computed once at start): the index records what the agent
    will compare at its next start, not a second reading of the config."""
    cfg = EnrichConfig.model_validate(enrich)
    assert cfg.identity is not None
    return build_from_sources(cfg.identity, Path(path), number_normalizer(cfg), fingerprint)


def index_fingerprint(cfg: EnrichConfig) -> str:
    """What an index's content follows from: the sources and the home region numbers are normalised against."""
    assert cfg.identity is not None
    made_of = {"sources": [source.model_dump(mode="json") for source in cfg.identity.sources],
               "home_region": cfg.phone.home_region if cfg.phone is not None else None}
    return hashlib.sha256(orjson.dumps(made_of, option=orjson.OPT_SORT_KEYS)).hexdigest()


class IdentityRefresher:
    def __init__(self, enrich: EnrichConfig, data_dir: Path) -> None:
        if enrich.identity is None:
            raise ValueError("IdentityRefresher needs enrich.identity")
        self.cfg: IdentityConfig = enrich.identity
        self.enrich = enrich
        self.path = data_dir / INDEX_NAME
        self.fingerprint = index_fingerprint(enrich)
        self.stats = IdentityStats()
        self.next_refresh_secs = self.cfg.refresh_interval_secs  # from start to the first refresh after it

    def refresh_once(self) -> None:
        """One refresh in this process (blocking)."""
        self._record(build_from_sources(self.cfg, self.path, number_normalizer(self.enrich), self.fingerprint))

    async def start(self) -> None:
        """Before reading, so the first events get their identities. The index the last run left is used at once
        when it was built from the same configuration (a restart does not wait for a directory of 100,000
        entries, nor read it again before it is due); otherwise it is built now."""
        for name in FORMER_INDEX_NAMES:  # an earlier version's index: of no use now, and it holds personal data
            (self.path.parent / name).unlink(missing_ok=True)
        info = index_info(self.path)
        if info is None or info.fingerprint != self.fingerprint:
            await self.refresh()
            return
        built = self.path.stat().st_mtime
        age = max(0.0, time.time() - built)
        # a source that failed when it was built is tried again at once; its older rows serve meanwhile
        self.next_refresh_secs = 0.0 if info.failed else max(0.0, self.cfg.refresh_interval_secs - age)
        self.stats.entries, self.stats.keys, self.stats.last_refresh = info.entries, info.keys, built
        log.info("Identity index of the last run in use; refreshed when due.", extra={
            "entries": info.entries, "keys": info.keys, "age_secs": round(age, 1),
            "next_refresh_secs": round(self.next_refresh_secs, 1)})

    async def refresh(self) -> None:
        """One refresh in a child process; the event loop goes on meanwhile."""
        import multiprocessing  # here: an agent without an identity directory never needs it (2 MiB)
        from concurrent.futures import ProcessPoolExecutor

        from ucsiem.pipeline.worker import die_with_parent

        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as child:
            result = await loop.run_in_executor(child, _refresh_in_child, self.enrich.model_dump(mode="json"),
                                                str(self.path), self.fingerprint)
        self._record(result)

    def _record(self, result: RefreshResult) -> None:
        for name, why in result.failures.items():
            self.stats.failures[name] = self.stats.failures.get(name, 0) + 1
            log.warning("Identity source failed; its last good copy stays in use.",
                        extra={"source": name, "error": why, "failures": self.stats.failures[name]})
        self.stats.refreshes += 1
        self.stats.entries = result.entries
        self.stats.keys = result.keys
        self.stats.last_refresh = time.time()
        log.info("Identity index refreshed.", extra={
            "entries": result.entries, "keys": result.keys, "shadowed_keys": result.shadowed_keys,
            "failed_sources": sorted(result.failures), "secs": result.secs})

    async def run(self) -> None:
        """Refresh for ever, every refresh_interval_secs (after `start`, which runs before reading)."""
        wait = self.next_refresh_secs
        while True:
            await asyncio.sleep(wait)
            wait = self.cfg.refresh_interval_secs
            try:
                await self.refresh()
            except Exception as exc:  # data_dir full, the child died: the workers keep the file they have
                log.error("Cannot refresh the identity index; the last one stays in use.",
                          extra={"path": str(self.path), "error": f"{type(exc).__name__}: {exc}"})


def number_normalizer(cfg: EnrichConfig) -> NumberNormalizer | None:
    """The same E.164 normalisation the workers use, so directory numbers and event numbers meet."""
    if cfg.phone is None:
        return None
    from ucsiem.enrich.phone import PhoneAnalyzer

    return PhoneAnalyzer(cfg.phone.home_region).normalize
