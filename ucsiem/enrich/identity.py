"""Identity: the directory, as an index file every parse worker reads, and the lookups into it.

The agent process reads every source (CSV, JSON, LDAP) in the background and writes one SQLite file,
replaced atomically: `identities(id, source, doc)` and `keys(key, identity)`. Workers open it read-only
and memory-mapped, so the directory sits once in the page cache whatever the number of workers; each
keeps a bounded cache of recent lookups (UC events repeat the same people). A worker notices a new
file with one stat per batch. A source that fails keeps its rows of the last good file (also across
restarts: the file lives in data_dir); a source read for the first time that fails is left out and
counted, and the agent goes on.
"""

from __future__ import annotations

import csv
import logging
import os
import sqlite3
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ucsiem.enrich.config import (
    IDENTITY_FIELDS,
    IDENTITY_LISTS,
    FileSourceConfig,
    IdentitySourceConfig,
    LdapSourceConfig,
)
from ucsiem.enrich.keys import NumberNormalizer, identity_keys, phone_keys, unique, value_keys
from ucsiem.errors import EnrichmentError, ParseError
from ucsiem.parsing.jsonrecords import json_documents

log = logging.getLogger("ucsiem.enrich.identity")

Record = dict[str, list[str]]  # identity field -> values, as a source gives them
INDEX_NAME = "identity.db"
# Lookups remembered per worker (by key, and by event value): each holds a decoded identity, ~1 KiB, so
# this bounds a worker's own memory to about 30 MiB; the index itself is shared through the page cache.
CACHE_ENTRIES = 16_384
MAX_VALUE_CHARS = 1024


# -- sources (agent process) ---------------------------------------------------------------------------


def read_file_source(cfg: FileSourceConfig) -> list[Record]:
    """A CSV file (first row: column names) or JSON (an array of objects, or one object per line)."""
    columns = {name: cfg.fields.get(name, [name]) for name in IDENTITY_FIELDS}
    try:
        if cfg.type == "csv":
            with cfg.path.open(newline="", encoding="utf-8-sig") as fh:
                rows: list[dict[str, Any]] = list(csv.DictReader(fh))
        else:
            raw = cfg.path.read_bytes()
            rows = _json_rows(raw)
    except OSError as exc:
        raise EnrichmentError(f"identity source {cfg.name()}: cannot read {cfg.path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error, ParseError) as exc:
        raise EnrichmentError(f"identity source {cfg.name()}: {cfg.path} is not valid {cfg.type.upper()}: "
                              f"{exc}") from None
    return [_record(row, columns) for row in rows]


def _json_rows(raw: bytes) -> list[dict[str, Any]]:
    """An array of objects, one object, or one object per line (the project's JSON record reader)."""
    text = raw.decode("utf-8").strip()
    try:
        return json_documents(text)
    except ParseError:
        if not text.startswith("{"):
            raise
    return [doc for line in text.splitlines() if line.strip() for doc in json_documents(line)]


def _record(row: dict[str, Any], columns: dict[str, list[str]]) -> Record:
    out: Record = {}
    for name, sources in columns.items():
        values: list[str] = []
        for column in sources:
            value = row.get(column)
            if isinstance(value, list):
                values.extend(str(v) for v in value if v not in (None, ""))
            elif value not in (None, "") and name in IDENTITY_LISTS:
                values.extend(v.strip() for v in str(value).split(";"))  # a CSV cell may hold several: a;b
            elif value not in (None, ""):
                values.append(str(value).strip())
        if values := unique(v[:MAX_VALUE_CHARS] for v in values):
            out[name] = values
    return out


def read_source(cfg: IdentitySourceConfig, secret: Callable[[Path], str]) -> list[Record]:
    """One source's records; raises EnrichmentError naming the source."""
    if isinstance(cfg, LdapSourceConfig):
        from ucsiem.enrich.ldap_source import fetch_ldap

        password = secret(cfg.password_file) if cfg.password_file is not None else None
        return fetch_ldap(cfg, password)
    return read_file_source(cfg)


# -- the index file (agent process writes, workers read) ------------------------------------------------


@dataclass
class BuildReport:
    entries: dict[str, int] = field(default_factory=dict)  # per source
    keys: int = 0
    shadowed_keys: int = 0  # keys an earlier source (or entry) had already claimed


def identity_doc(record: Record, source: str, normalize: NumberNormalizer | None = None) -> dict[str, Any]:
    """What an event gets from one identity (stored as JSON in the index); numbers in E.164 where they parse."""
    doc: dict[str, Any] = {"source": source}
    for name in ("name", "email", "full_name", "id", "domain", "department", "title", "manager", "site",
                 "sip_uri", "extension"):
        if values := record.get(name):
            doc[name] = values[0]
    for name in ("roles", "groups"):
        if values := record.get(name):
            doc[name] = values
    if numbers := record.get("phone_numbers"):
        doc["phone_numbers"] = unique(_e164(n, normalize) for n in numbers)
    return doc


def _e164(number: str, normalize: NumberNormalizer | None) -> str:
    return next((k[5:] for k in phone_keys(number, normalize) if k.startswith("e164:")), number)


def build_index(path: Path, sources: Sequence[tuple[str, list[Record] | None]],
                normalize: NumberNormalizer | None) -> BuildReport:
    """Write the index for `sources` in precedence order; a source given as None failed: its rows are
    copied from the current file at `path`, if any. The new file replaces the old one atomically."""
    report = BuildReport()
    fd, tmp = tempfile.mkstemp(prefix=".identity-", suffix=".db", dir=path.parent)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        try:
            db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                             "CREATE TABLE identities (id INTEGER PRIMARY KEY, source TEXT NOT NULL, doc BLOB);"
                             "CREATE TABLE keys (key TEXT PRIMARY KEY, identity INTEGER NOT NULL) WITHOUT ROWID;")
            old = path.exists()
            if old:
                db.execute("ATTACH DATABASE ? AS old", (f"file:{path}?mode=ro",))
            for name, records in sources:
                if records is None:
                    report.entries[name] = _copy_old(db, name) if old else 0
                    continue
                report.entries[name] = len(records)
                for record in records:
                    cur = db.execute("INSERT INTO identities (source, doc) VALUES (?, ?)",
                                     (name, orjson.dumps(identity_doc(record, name, normalize))))
                    keys = [(key, cur.lastrowid) for key in identity_keys(record, normalize)]
                    added = db.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", keys).rowcount
                    report.keys += len(keys)
                    report.shadowed_keys += len(keys) - added
            # Which kinds of key exist (user, email, sip, ext, e164, ip, mac): a worker does not look up what no
            # entry can match (a directory without device addresses makes every source.ip lookup a miss).
            db.execute("CREATE TABLE kinds (kind TEXT PRIMARY KEY) WITHOUT ROWID")
            db.execute("INSERT INTO kinds SELECT DISTINCT substr(key, 1, instr(key, ':') - 1) FROM keys")
            db.commit()
            if old:
                db.execute("DETACH DATABASE old")
        finally:
            db.close()
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return report


def _copy_old(db: sqlite3.Connection, source: str) -> int:
    """The last good rows of a source that failed now (ids renumbered, precedence kept by order)."""
    try:
        rows = db.execute("SELECT id, doc FROM old.identities WHERE source = ?", (source,)).fetchall()
    except sqlite3.Error:
        return 0
    for old_id, doc in rows:
        new_id = db.execute("INSERT INTO identities (source, doc) VALUES (?, ?)", (source, doc)).lastrowid
        db.execute("INSERT OR IGNORE INTO keys SELECT key, ? FROM old.keys WHERE identity = ?", (new_id, old_id))
    return len(rows)


class IdentityIndex:
    """Read side, one per worker: lookups through a bounded cache; reopens when the file is replaced."""

    def __init__(self, path: Path, cache_size: int = CACHE_ENTRIES) -> None:
        self.path = path
        self.cache_size = cache_size
        self._cache: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._db: sqlite3.Connection | None = None
        self._stamp: tuple[int, int] | None = None
        self.generation: object = None  # a new object each time another file is opened
        self.kinds: frozenset[str] | None = None  # kinds of key in the file; None: not known, try every key

    def refresh(self) -> None:
        """Once per batch: is there a new file? (one stat)"""
        try:
            st = os.stat(self.path)
        except OSError:
            self._close()
            return
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp == self._stamp:
            return
        self._close()
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            db.execute("PRAGMA mmap_size=1073741824")  # pages shared by every worker through the page cache
            db.execute("SELECT 1 FROM keys LIMIT 1").fetchall()
            try:
                kinds: frozenset[str] | None = frozenset(row[0] for row in db.execute("SELECT kind FROM kinds"))
            except sqlite3.OperationalError:  # a file written before the kinds table existed
                kinds = None
        except sqlite3.Error as exc:
            log.warning("Cannot open the identity index; events are not enriched with identities until it is "
                        "rebuilt.", extra={"path": str(self.path), "error": str(exc)})
            return
        self._db, self._stamp, self.kinds = db, stamp, kinds
        self.generation = object()

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db, self._stamp, self.kinds = None, None, None
        self._cache.clear()
        self.generation = object()

    @property
    def available(self) -> bool:
        return self._db is not None

    def find(self, keys: list[str]) -> dict[str, Any] | None:
        """The identity of the first key that is known."""
        kinds = self.kinds
        for key in keys:
            if kinds is not None and key[:key.find(":")] not in kinds:
                continue  # no entry has a key of this kind: a sure miss, not worth a query or a cache slot
            doc = self._lookup(key)
            if doc is not None:
                return doc
        return None

    def _lookup(self, key: str) -> dict[str, Any] | None:
        cache = self._cache
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        doc: dict[str, Any] | None = None
        if self._db is not None:
            row = self._db.execute("SELECT i.doc FROM keys k JOIN identities i ON i.id = k.identity WHERE k.key = ?",
                                   (key,)).fetchone()
            doc = orjson.loads(row[0]) if row is not None else None
        cache[key] = doc
        if len(cache) > self.cache_size:
            cache.popitem(last=False)
        return doc

    def close(self) -> None:
        self._close()


# -- writing what was found into an event (workers) ----------------------------------------------------

# target -> (where the ECS fields go, key under uc.identity)
TARGETS: dict[str, tuple[tuple[str, ...], str]] = {
    "user": (("user",), "user"),
    "user.target": (("user", "target"), "target"),
    "source.user": (("source", "user"), "source"),
    "destination.user": (("destination", "user"), "destination"),
}
_ECS = ("name", "email", "full_name", "id", "domain", "roles")
_DETAILS = ("department", "title", "manager", "site", "sip_uri", "extension", "phone_numbers", "source")


class IdentityEnricher:
    def __init__(self, index: IdentityIndex, lookups: dict[str, str], normalize: NumberNormalizer | None,
                 cache_size: int = CACHE_ENTRIES) -> None:
        self.index = index
        self.normalize = normalize
        # (index of the parent object, key, target) in configured order; the few parents (uc.call, source.user,
        # ...) are fetched once per event
        parents: dict[tuple[str, ...], int] = {}
        self.lookups: list[tuple[int, str, str]] = []
        self._address_lookups: set[int] = set()  # positions in `lookups` of fields that hold an IP or a MAC
        for path, target in lookups.items():
            *parent, key = path.split(".")
            if key in ("ip", "mac"):
                self._address_lookups.add(len(self.lookups))
            self.lookups.append((parents.setdefault(tuple(parent), len(parents)), key, target))
        self._active = self.lookups  # what the current index can answer
        self._parents = list(parents)
        self.hits = 0
        self.misses = 0
        # event value -> identity: the keys of a value cost more to make (number parsing) than to look up
        self._found: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._cache_size = cache_size
        self._generation: object = None

    def enrich(self, event: dict[str, Any]) -> None:
        index = self.index
        if not index.available:
            return
        if self._generation is not index.generation:
            self._use_generation()
        done: set[str] = set()
        tried: set[str] = set()
        parents = [_get(event, path) for path in self._parents]
        for parent_index, key, target in self._active:
            if target in done:
                continue
            parent = parents[parent_index]
            value = parent.get(key) if isinstance(parent, dict) else None
            if not isinstance(value, str) or not value:
                continue
            tried.add(target)
            doc = self._find(value)
            if doc is not None:
                _apply(event, target, doc)
                done.add(target)
        for target in sorted(tried - done):
            self.misses += 1
            _tag(event, "identity_unknown_" + target.replace(".", "_"))
        self.hits += len(done)

    def _use_generation(self) -> None:
        """A new index: what was found may have changed, and so may the kinds of key it holds."""
        self._found.clear()
        self._generation = self.index.generation
        kinds = self.index.kinds
        if kinds is not None and not kinds & {"ip", "mac"}:
            # no entry has a device address: an address field can only miss, and must not tag events unknown
            self._active = [lookup for i, lookup in enumerate(self.lookups) if i not in self._address_lookups]
        else:
            self._active = self.lookups

    def _find(self, value: str) -> dict[str, Any] | None:
        found = self._found
        if value in found:
            found.move_to_end(value)
            return found[value]
        doc = self.index.find(value_keys(value, self.normalize))
        found[value] = doc
        if len(found) > self._cache_size:
            found.popitem(last=False)
        return doc


def _get(event: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = event
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _apply(event: dict[str, Any], target: str, doc: dict[str, Any]) -> None:
    ecs_path, details_key = TARGETS[target]
    node = event
    for part in ecs_path:
        node = node.setdefault(part, {})
    for name in _ECS:
        if name in doc and name not in node:  # what the log said stays: the directory only adds
            node[name] = doc[name]
    if "groups" in doc and "group" not in node:
        node["group"] = {"name": doc["groups"]}
    details = {name: doc[name] for name in _DETAILS if name in doc}
    if details:
        event.setdefault("uc", {}).setdefault("identity", {}).setdefault(details_key, details)


def _tag(event: dict[str, Any], tag: str) -> None:
    tags = event.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
