"""The enrichment stage as the parse workers run it: phone numbers, then identity (which looks up the E.164
numbers just found), then GeoIP/ASN; `privacy` is applied by the normalizer as the very last step (after
`event.original` is added, before `related.*`). Built once per worker from a picklable setup.

Nothing here may drop or stop an event: an enricher that raises leaves the event as it was and tags it
`enrich_error`; counts of what was found and not found travel back with each batch's counters.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ucsiem import secrets
from ucsiem.enrich.config import EnrichConfig
from ucsiem.enrich.identity import IdentityEnricher, IdentityIndex
from ucsiem.enrich.privacy import Privacy
from ucsiem.errors import ConfigError, EnrichmentError

if TYPE_CHECKING:
    from ucsiem.enrich.geo import GeoEnricher

log = logging.getLogger("ucsiem.enrich")


class Enricher(Protocol):
    def enrich(self, event: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class EnrichSetup:
    """What a worker needs: the `enrich:` config (JSON-able), the identity index file, the HMAC key."""

    config: dict[str, Any]
    identity_index: str | None
    hmac_key: bytes | None

    @property
    def active(self) -> bool:
        return any(self.config.get(part) for part in ("identity", "phone", "geo", "privacy"))


class Enrichment:
    def __init__(self, setup: EnrichSetup) -> None:
        cfg = EnrichConfig.model_validate(setup.config)
        self.enrichers: list[tuple[str, Enricher]] = []
        normalize = None
        if cfg.phone is not None:
            from ucsiem.enrich.phone import PhoneEnricher  # phonenumbers' metadata only where numbers are used

            phone = PhoneEnricher(cfg.phone)
            normalize = phone.analyzer.normalize
            self.enrichers.append(("phone", phone))
        self.identity: IdentityEnricher | None = None
        if cfg.identity is not None and setup.identity_index is not None:
            self.identity = IdentityEnricher(IdentityIndex(Path(setup.identity_index)), cfg.identity.lookups,
                                             normalize)
            self.enrichers.append(("identity", self.identity))
        self.geo: GeoEnricher | None = None
        if cfg.geo is not None and (cfg.geo.city_db is not None or cfg.geo.asn_db is not None):
            from ucsiem.enrich.geo import GeoEnricher  # maxminddb only where GeoIP is used

            self.geo = GeoEnricher(cfg.geo)
            self.enrichers.append(("geo", self.geo))
        self.privacy = Privacy(cfg.privacy, setup.hmac_key) if cfg.privacy is not None else None
        self.counts: dict[str, int] = {}
        self._tags: list[str] = []  # tags the enrichers added since the last take_counts
        self._identity_seen = 0  # IdentityEnricher.hits already counted

    def begin_batch(self) -> None:
        """Pick up a new identity index or GeoIP database (one stat each)."""
        if self.identity is not None:
            self.identity.index.refresh()
        if self.geo is not None:
            self.geo.maybe_reload()

    def enrich(self, event: dict[str, Any]) -> None:
        tags = event.get("tags")
        tags_before = len(tags) if tags else 0
        for name, enricher in self.enrichers:
            try:
                enricher.enrich(event)
            except Exception as exc:  # an enricher bug on odd input: the event goes on as it is
                _tag(event, "enrich_error")
                self._count(f"{name}_error")
                log.debug("Enricher failed on an event.", extra={"enricher": name, "error": repr(exc)})
        tags = event.get("tags")
        if tags and len(tags) > tags_before:  # the tags added are counted per batch (most events get one)
            self._tags.extend(tags[tags_before:])

    def take_counts(self) -> dict[str, int]:
        """What was found and not found since the last call (added to the batch's counters)."""
        if self.identity is not None:
            hits = self.identity.hits
            if hits - self._identity_seen:
                self._count("identity_found", hits - self._identity_seen)
            self._identity_seen = hits
        for tag, n in Counter(self._tags).items():
            self._count(tag, n)
        self._tags.clear()
        counts, self.counts = self.counts, {}
        return counts

    def _count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def _tag(event: dict[str, Any], tag: str) -> None:
    tags = event.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


MIN_HMAC_KEY_BYTES = 32


def enrichment_problems(cfg: EnrichConfig) -> list[str]:
    """What would stop the stage in the workers, found before reading: GeoIP databases that cannot be opened,
    a pseudonym key too short to be a secret. (`key.path: message` lines, as in ConfigError.)"""
    problems: list[str] = []
    if cfg.geo is not None and (cfg.geo.city_db is not None or cfg.geo.asn_db is not None):
        from ucsiem.enrich.geo import GeoEnricher

        try:
            GeoEnricher(cfg.geo).close()
        except EnrichmentError as exc:
            problems.append(str(exc))
    try:
        key = read_hmac_key(cfg)
    except ConfigError as exc:
        problems.extend(exc.problems)
    else:
        if key is not None and len(key) < MIN_HMAC_KEY_BYTES:
            problems.append(f"enrich.privacy.hmac_key_file: the key has {len(key)} bytes; use at least "
                            f"{MIN_HMAC_KEY_BYTES} random bytes (head -c 32 /dev/urandom | base64 > FILE)")
    return problems


def read_hmac_key(cfg: EnrichConfig) -> bytes | None:
    """The pseudonym key of `privacy`, if one is set (ConfigError naming the key for an unsafe file)."""
    if cfg.privacy is None or cfg.privacy.hmac_key_file is None:
        return None
    return secrets.read_secret(cfg.privacy.hmac_key_file, "enrich.privacy.hmac_key_file").strip()
