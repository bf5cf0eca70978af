"""Identity: the directory, as an index file every parse worker reads, and the lookups into it.

The agent process reads every source (CSV, JSON, LDAP) in the background and writes one LMDB file,
replaced atomically: each key to its entry's number, each number to the entry's document. Workers open it
read-only and memory-mapped, so the directory sits once in the page cache whatever the number of workers; each
keeps a bounded cache of recent lookups (UC events repeat the same people). A worker notices a new
file with one stat per batch. A source that fails keeps its rows of the last good file (also across
restarts: the file lives in data_dir); a source read for the first time that fails is left out and
counted, and the agent goes on.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import logging
import os
import struct
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import lmdb
import orjson

from ucsiem.enrich.config import (
    IDENTITY_FIELDS,
    IDENTITY_LISTS,
    FileSourceConfig,
    IdentitySourceConfig,
    LdapSourceConfig,
)
from ucsiem.enrich.keys import MAX_LOOKUP_CHARS, NumberNormalizer, identity_keys, phone_keys, unique, value_keys
from ucsiem.errors import EnrichmentError, ParseError
from ucsiem.parsing.jsonrecords import json_documents

log = logging.getLogger("ucsiem.enrich.identity")

Record = dict[str, list[str]]  # identity field -> values, as a source gives them
INDEX_NAME = "identity.lmdb"
FORMER_INDEX_NAMES = ("identity.db",)  # the SQLite index of earlier versions: removed at start
# Directory entries decoded per worker (~1 KiB each), so about 16 MiB of a worker's own memory; the index
# itself is shared through the page cache.
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
    present: set[str] = set()
    for row in rows:
        present.update(row)
    # only the columns this source has: most identity fields are absent from a given CSV
    columns = {name: cols for name, sources in columns.items() if (cols := [c for c in sources if c in present])}
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
            if value is None or value == "":
                continue
            if isinstance(value, list):
                values.extend(str(v) for v in value if v not in (None, ""))
            elif name in IDENTITY_LISTS:
                values.extend(v.strip() for v in str(value).split(";"))  # a CSV cell may hold several: a;b
            else:
                values.append(str(value).strip())
        if values:
            if len(values) > 1 or len(values[0]) > MAX_VALUE_CHARS or not values[0]:
                values = unique(v[:MAX_VALUE_CHARS] for v in values)
            if values:
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

# Named databases of the index file. Entries are numbered in precedence order, the number stored as 4 bytes
# big-endian (so they sort by number): `keys` maps a key's UTF-8 bytes to its entry's number, `entries` a
# number to the entry (`stored_identity`), `meta` holds one JSON object (`_META_KEY`).
_KEYS, _ENTRIES, _META = b"keys", b"entries", b"meta"
_META_KEY = b"meta"
_NUMBER = struct.Struct(">I")
# LMDB's limit on a key (511 bytes unless LMDB is built otherwise). A longer key (directory values may have
# 1,024 characters, UTF-8 up to 4 bytes each) is stored and looked up as "#" and its SHA-256: no key of a
# kind starts with "#".
MAX_KEY_BYTES = 511


def key_bytes(raw: bytes) -> bytes:
    """A key (its UTF-8) as the index file stores it."""
    return raw if len(raw) <= MAX_KEY_BYTES else b"#" + hashlib.sha256(raw).digest()


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
                normalize: NumberNormalizer | None, fingerprint: str = "") -> BuildReport:
    """Write the index for `sources` in precedence order; a source given as None failed: its rows are
    copied from the current file at `path`, if any. The new file replaces the old one atomically.
    `fingerprint` names the configuration it was built from (see `index_info`)."""
    report = BuildReport()
    docs: list[bytes] = []  # entry number -> document
    owners: dict[bytes, int] = {}  # key -> entry number; the first source (and entry) to claim a key keeps it
    for name, records in sources:
        if records is None:
            report.entries[name] = _copy_old(path, name, docs, owners)
            continue
        report.entries[name] = len(records)
        for record in records:
            number = len(docs)
            docs.append(stored_identity(identity_doc(record, name, normalize)))
            for key in identity_keys(record, normalize):
                report.keys += 1
                if owners.setdefault(key_bytes(key.encode()), number) != number:
                    report.shadowed_keys += 1
    # Which kinds of key exist (user, email, sip, ext, e164, ip, mac): a worker does not look up what no entry
    # can match (a directory without device addresses makes every source.ip lookup a miss).
    kinds = sorted({key.split(b":", 1)[0].decode() for key in owners if key[:1] != b"#"})
    meta = {"fingerprint": fingerprint, "failed": any(records is None for _, records in sources),
            "entries": report.entries, "keys": len(owners), "kinds": kinds}
    fd, tmp = tempfile.mkstemp(prefix=".identity-", suffix=".lmdb", dir=path.parent)
    os.close(fd)
    try:
        _write(tmp, docs, owners, orjson.dumps(meta))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return report


def map_size(docs: list[bytes], owners: dict[bytes, int]) -> int:
    """Room for the data twice over: LMDB needs the map's size up front (the file only grows to what is used);
    appended in key order, its pages come out nearly full. Too small after all, `_write` doubles it."""
    return 2 * (sum(map(len, docs)) + sum(map(len, owners)) + 32 * (len(docs) + len(owners))) + (1 << 20)


def _write(path: str, docs: list[bytes], owners: dict[bytes, int], meta: bytes) -> None:
    size = map_size(docs, owners)
    while True:
        env = lmdb.open(path, subdir=False, map_size=size, max_dbs=3, lock=False, sync=False, metasync=False)
        try:
            with env.begin(write=True) as txn:
                entries = env.open_db(_ENTRIES, txn=txn)
                with txn.cursor(entries) as cursor:
                    cursor.putmulti(((_NUMBER.pack(n), doc) for n, doc in enumerate(docs)), append=True)
                keys = env.open_db(_KEYS, txn=txn)
                with txn.cursor(keys) as cursor:
                    cursor.putmulti(((key, _NUMBER.pack(n)) for key, n in sorted(owners.items())), append=True)
                txn.put(_META_KEY, meta, db=env.open_db(_META, txn=txn))
            env.sync(True)  # on disk before it replaces the last good file
            return
        except lmdb.MapFullError:
            size *= 2
        finally:
            env.close()


@dataclass(frozen=True)
class IndexInfo:
    fingerprint: str  # the configuration it was built from
    failed: bool  # some source failed: it holds that source's older rows
    entries: dict[str, int]  # per source
    keys: int
    kinds: frozenset[str]  # kinds of key its entries have


class _IndexFile:
    """An index file open read-only, in one read transaction for its life (the file is never written once in
    place: a refresh replaces it). Opened through `_open_index`."""

    def __init__(self, path: Path, inode: tuple[int, int]) -> None:
        self.inode = inode
        self.users = 1
        self.env = lmdb.open(str(path), subdir=False, readonly=True, lock=False, max_dbs=3)
        try:
            self.keys = self.env.open_db(_KEYS, create=False)
            self.entries = self.env.open_db(_ENTRIES, create=False)
            meta_db = self.env.open_db(_META, create=False)
            self.txn = self.env.begin(db=self.keys)
            meta = orjson.loads(self.txn.get(_META_KEY, b"", db=meta_db))
            self.info = IndexInfo(str(meta["fingerprint"]), bool(meta["failed"]),
                                  {str(k): int(v) for k, v in meta["entries"].items()}, int(meta["keys"]),
                                  frozenset(str(kind) for kind in meta["kinds"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            self.env.close()
            raise ValueError(f"not an identity index: {exc!r}") from None
        except BaseException:
            self.env.close()
            raise

    def close(self) -> None:
        self.users -= 1
        if self.users == 0:
            del _OPEN[self.inode]
            self.txn.abort()
            self.env.close()


# The index files open in this process, by (device, inode): LMDB refuses to open one file twice in a process,
# and a worker's reader, `index_info` and a rebuild keeping a failed source's rows may all want the same one.
_OPEN: dict[tuple[int, int], _IndexFile] = {}


def _open_index(path: Path) -> _IndexFile:
    """The index file at `path`, shared within the process (`close` when done). Raises OSError, lmdb.Error, or
    ValueError for a file that is not an index."""
    while True:
        st = os.stat(path)
        inode = (st.st_dev, st.st_ino)
        if (shared := _OPEN.get(inode)) is not None:
            shared.users += 1
            return shared
        opened = _OPEN[inode] = _IndexFile(path, inode)
        st = os.stat(path)
        if (st.st_dev, st.st_ino) == inode:
            return opened
        opened.close()  # replaced while it was opened: which file the environment holds is not known


def index_info(path: Path) -> IndexInfo | None:
    """What an index file holds, None if there is no readable one. A restarted agent starts from an index of
    the same configuration at once and refreshes it when it is due."""
    try:
        index = _open_index(path)
    except (OSError, lmdb.Error, ValueError):  # missing, or not an index (an earlier version's SQLite file)
        return None
    index.close()
    return index.info


def _copy_old(path: Path, source: str, docs: list[bytes], owners: dict[bytes, int]) -> int:
    """The last good rows of a source that failed now, from the file at `path` (numbered anew, precedence
    kept by order): appended to `docs`, their keys to `owners` where no earlier entry has them."""
    try:
        old = _open_index(path)
    except (OSError, lmdb.Error, ValueError):
        return 0
    try:
        numbers: dict[bytes, int] = {}  # old number -> new
        for raw, doc in old.txn.cursor(old.entries):
            if orjson.loads(doc)[1].get("source") == source:
                numbers[raw] = len(docs)
                docs.append(doc)
        for key, raw in old.txn.cursor(old.keys):
            if (number := numbers.get(raw)) is not None:
                owners.setdefault(key, number)
    finally:
        old.close()
    return len(numbers)


_ECS = ("name", "email", "full_name", "id", "domain", "roles")
_DETAILS = ("department", "title", "manager", "site", "sip_uri", "extension", "phone_numbers", "source")


class Identity(NamedTuple):
    """One directory entry as the workers apply it, decoded once and shared by every key that finds it.

    Its objects go into events as they are, shared by every event it is found for: nothing edits an event's
    objects after enrichment but privacy, which copies each object on the way to a field it changes."""

    ecs: dict[str, Any]  # ECS user fields (name, email, full_name, id, domain, roles, group)
    details: dict[str, Any]  # uc.identity.<side>

    @property
    def doc(self) -> dict[str, Any]:
        """Both as one document (`IdentityIndex.find`)."""
        return {**self.ecs, **self.details}


def stored_identity(doc: dict[str, Any]) -> bytes:
    """An `identity_doc` as the index file holds it: `[ecs, details]`, the two objects an event gets, so a
    worker's decoding is one `orjson.loads` (sorting the fields out per entry cost twice the parse)."""
    ecs = {name: doc[name] for name in _ECS if name in doc}
    if "groups" in doc:
        ecs["group"] = {"name": doc["groups"]}
    return orjson.dumps([ecs, {name: doc[name] for name in _DETAILS if name in doc}])


def _identity(stored: bytes) -> Identity:
    ecs, details = orjson.loads(stored)
    return Identity(ecs, details)


class IdentityIndex:
    """Read side, one per worker: key -> identity through the memory-mapped file (LMDB: a B+tree read in C,
    ~1 µs a key, where the SQLite query with its join cost ~6 µs), entries decoded once each (bounded cache);
    reopens when the file is replaced."""

    def __init__(self, path: Path, cache_size: int = CACHE_ENTRIES) -> None:
        self.path = path
        self.cache_size = cache_size
        self._entries: OrderedDict[bytes, Identity] = OrderedDict()  # entry number -> decoded entry
        self._file: _IndexFile | None = None
        self._get: Callable[[bytes], bytes | None] | None = None  # the open file's key -> entry number
        self._stamp: tuple[int, int] | None = None
        self.generation: object = None  # a new object each time another file is opened
        self.available = False  # a file is open (an attribute, not a property: read for every event)

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
            opened = _open_index(self.path)
        except (OSError, lmdb.Error, ValueError) as exc:
            log.warning("Cannot open the identity index; events are not enriched with identities until it is "
                        "rebuilt.", extra={"path": str(self.path), "error": str(exc)})
            return
        self._file, self._get, self._stamp = opened, opened.txn.get, stamp
        self.available = True
        self.generation = object()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._get, self._stamp = None, None, None
        self.available = False
        self._entries.clear()
        self.generation = object()

    @property
    def kinds(self) -> frozenset[str] | None:
        """Kinds of key in the open file (None: none open)."""
        return self._file.info.kinds if self._file is not None else None

    def find(self, keys: list[str]) -> dict[str, Any] | None:
        """The directory entry of the first key that is known."""
        found = self.identity(keys)
        return found.doc if found is not None else None

    def identity(self, keys: list[str]) -> Identity | None:
        """The entry of the first of `keys` (most specific first) that the index has."""
        get = self._get
        if get is None:
            return None
        for key in keys:
            raw = key.encode()
            number = get(raw if len(raw) <= MAX_KEY_BYTES else key_bytes(raw))  # no call for the usual key
            if number is not None:
                return self._entry(number)
        return None

    def _entry(self, number: bytes) -> Identity:
        """The entry numbered `number` (as stored), decoded once while it is in the cache."""
        entries = self._entries
        entry = entries.get(number)
        if entry is not None:
            entries.move_to_end(number)
            return entry
        assert self._file is not None
        doc = self._file.txn.get(number, db=self._file.entries)
        if doc is None:  # a damaged file (the stage tags the event enrich_error)
            raise EnrichmentError(f"identity index {self.path}: a key names an entry the file does not hold")
        entry = entries[number] = _identity(doc)
        if len(entries) > self.cache_size:
            entries.popitem(last=False)
        return entry

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
# Event values remembered per worker (value -> entry or a miss): an entry is shared with the index's cache,
# so each remembered value costs about 200 bytes; UC events repeat the same people and numbers.
VALUE_CACHE_ENTRIES = 32_768


class IdentityEnricher:
    def __init__(self, index: IdentityIndex, lookups: dict[str, str], normalize: NumberNormalizer | None,
                 cache_size: int = VALUE_CACHE_ENTRIES) -> None:
        self.index = index
        self.normalize = normalize
        # per target in configured order: its fields as (index of the parent object, key); the few parents
        # (uc.call, source.user, ...) are fetched once per event
        parents: dict[tuple[str, ...], int] = {}
        plan: dict[str, list[tuple[int, str, bool]]] = {}
        for path, target in lookups.items():
            *parent, key = path.split(".")
            plan.setdefault(target, []).append((parents.setdefault(tuple(parent), len(parents)), key,
                                                key in ("ip", "mac")))
        self._plan = [(TARGETS[target], "identity_unknown_" + target.replace(".", "_"), tuple(fields))
                      for target, fields in plan.items()]
        self._parents = list(parents)
        self._active = self._plan  # what the current index can answer
        self.hits = 0
        self.misses = 0
        # event value -> entry or None: the keys of a value cost more to make (number parsing) than to look up
        # (functools' C LRU: a hit is one call, no Python frame)
        self._find = functools.lru_cache(maxsize=cache_size)(self._find_uncached)
        self._lookup: Lookups  # made for each index (`_use_generation`)
        self._generation: object = None

    def enrich(self, event: dict[str, Any]) -> None:
        index = self.index
        if not index.available:
            return
        if self._generation is not index.generation:
            self._use_generation()
        hits, misses = self._lookup(event)
        self.hits += hits
        self.misses += misses

    def _use_generation(self) -> None:
        """A new index: what was found may have changed, and so may the kinds of key it holds."""
        self._find.cache_clear()
        self._generation = self.index.generation
        kinds = self.index.kinds
        if kinds is not None and not kinds & {"ip", "mac"}:
            # no entry has a device address: an address field can only miss, and must not tag events unknown
            active = [(where, tag, tuple(f for f in fields if not f[2])) for where, tag, fields in self._plan]
            self._active = [plan for plan in active if plan[2]]
        else:
            self._active = self._plan
        self._lookup = Lookups(self._parents, self._active, self._find)

    def _find_uncached(self, value: str) -> Identity | None:
        return self.index.identity(value_keys(value, self.normalize))


Plan = list[tuple[tuple[tuple[str, ...], str], str, tuple[tuple[int, str, bool], ...]]]


class Lookups:
    """The lookups of `plan`, for one event: each parent object read once (its parents first); per target, its
    fields in order until one is found (`find`), which is applied (the directory only adds: what the log said
    stays); a target whose fields were all tried in vain is tagged. Returns (targets found, targets tagged
    unknown). A plain loop: compiled with the module (setup.py), it costs less than the generated function
    it replaced (identity 60.1k -> 48.2k instructions a line), which stayed interpreted."""

    def __init__(self, parents: list[tuple[str, ...]], plan: Plan, find: Callable[[str], Identity | None]) -> None:
        index: dict[tuple[str, ...], int] = {(): 0}
        self.reads: list[tuple[int, str]] = []  # (the node above, key): node i + 1 of an event

        def node(path: tuple[str, ...]) -> int:
            if path not in index:
                above = node(path[:-1])
                index[path] = len(index)
                self.reads.append((above, path[-1]))
            return index[path]

        nodes = [node(path) for path in parents]
        self.targets: list[tuple[tuple[str, ...], str, str, list[tuple[int, str]]]] = [
            (ecs_path, details_key, miss_tag, [(nodes[parent], key) for parent, key, _ in fields])
            for (ecs_path, details_key), miss_tag, fields in plan]
        self.find = find

    def __call__(self, event: dict[str, Any]) -> tuple[int, int]:
        nodes: list[dict[str, Any] | None] = [event]
        for above, key in self.reads:
            parent = nodes[above]
            value = parent.get(key) if parent is not None else None
            nodes.append(value if type(value) is dict else None)
        hits = 0
        missed: list[str] = []
        for ecs_path, details_key, miss_tag, fields in self.targets:
            tried = found = False
            for node_index, key in fields:
                holder = nodes[node_index]
                v = holder.get(key) if holder is not None else None
                if type(v) is str and v:
                    tried = True
                    f = self.find(v) if len(v) <= MAX_LOOKUP_CHARS else None
                    if f is not None:
                        _apply(event, ecs_path, details_key, f)
                        hits += 1
                        found = True
                        break
            if tried and not found:
                missed.append(miss_tag)
        if not missed:
            return hits, 0
        for tag in sorted(missed):
            _tag(event, tag)
        return hits, len(missed)


def _apply(event: dict[str, Any], ecs_path: tuple[str, ...], details_key: str, f: Identity) -> None:
    """The found identity `f` written into `event`: its ECS fields at `ecs_path` where the event has none, its
    details at uc.identity.<details_key> unless there are some. (A non-object on the way raises: the stage
    tags the event enrich_error.)"""
    node: Any = event
    for part in ecs_path:
        child: Any = node.get(part)
        if child is None:
            child = node[part] = {}
        node = child
    if node:
        for name, value in f.ecs.items():
            if name not in node:
                node[name] = value
    else:
        node.update(f.ecs)
    if f.details:
        uc: Any = event.get("uc")
        if uc is None:
            uc = event["uc"] = {}
        known: Any = uc.get("identity")
        if known is None:
            known = uc["identity"] = {}
        if details_key not in known:
            known[details_key] = f.details


def _tag(event: dict[str, Any], tag: str) -> None:
    tags = event.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
