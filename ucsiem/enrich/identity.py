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
import functools
import logging
import os
import sqlite3
import tempfile
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from zlib import crc32

import orjson

from ucsiem.codegen import ObjectReads, generated
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
INDEX_NAME = "identity.db"
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
    `fingerprint` names the configuration it was built from (see `index_made_from`)."""
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
                # ids given here, rows written in one statement each: a row at a time was half the build
                first = (db.execute("SELECT COALESCE(MAX(id), 0) FROM identities").fetchone()[0]) + 1
                rows = [(first + i, name, orjson.dumps(identity_doc(record, name, normalize)))
                        for i, record in enumerate(records)]
                keys = [(key, first + i) for i, record in enumerate(records)
                        for key in identity_keys(record, normalize)]
                db.executemany("INSERT INTO identities (id, source, doc) VALUES (?, ?, ?)", rows)
                # OR IGNORE in insertion order: the first source (and entry) to claim a key keeps it
                added = db.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", keys).rowcount
                report.keys += len(keys)
                report.shadowed_keys += len(keys) - added
            # Which kinds of key exist (user, email, sip, ext, e164, ip, mac): a worker does not look up what no
            # entry can match (a directory without device addresses makes every source.ip lookup a miss).
            db.execute("CREATE TABLE kinds (kind TEXT PRIMARY KEY) WITHOUT ROWID")
            db.execute("INSERT INTO kinds SELECT DISTINCT substr(key, 1, instr(key, ':') - 1) FROM keys")
            db.execute("CREATE TABLE key_hashes (hashes BLOB NOT NULL, bits BLOB NOT NULL)")
            hashes = key_hashes(key for (key,) in db.execute("SELECT key FROM keys"))
            db.execute("INSERT INTO key_hashes VALUES (?, ?)", (hashes, key_bits(hashes)))
            db.execute("CREATE TABLE meta (fingerprint TEXT NOT NULL, failed INTEGER NOT NULL)")
            db.execute("INSERT INTO meta VALUES (?, ?)", (fingerprint, any(r is None for _, r in sources)))
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


@dataclass(frozen=True)
class IndexInfo:
    fingerprint: str  # the configuration it was built from
    failed: bool  # some source failed: it holds that source's older rows
    entries: dict[str, int]  # per source
    keys: int


def index_info(path: Path) -> IndexInfo | None:
    """What an index file holds, None if there is no readable one. A restarted agent starts from an index of
    the same configuration at once and refreshes it when it is due."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = db.execute("SELECT fingerprint, failed FROM meta").fetchone()
        entries = dict(db.execute("SELECT source, count(*) FROM identities GROUP BY source").fetchall())
        keys = db.execute("SELECT count(*) FROM keys").fetchone()[0]
    except sqlite3.Error:  # missing, not SQLite, or written before the meta table existed
        return None
    finally:
        db.close()
    return IndexInfo(str(row[0]), bool(row[1]), entries, int(keys)) if row is not None else None


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


_ECS = ("name", "email", "full_name", "id", "domain", "roles")
_DETAILS = ("department", "title", "manager", "site", "sip_uri", "extension", "phone_numbers", "source")


class Identity(NamedTuple):
    """One directory entry as the workers apply it, decoded once and shared by every key that finds it.

    Its objects go into events as they are, shared by every event it is found for: nothing edits an event's
    objects after enrichment but privacy, which copies each object on the way to a field it changes."""

    doc: dict[str, Any]
    ecs: tuple[tuple[str, Any], ...]  # ECS user fields (name, email, full_name, id, domain, roles, group)
    details: dict[str, Any]  # uc.identity.<side>


def _identity(doc: dict[str, Any]) -> Identity:
    ecs = [(name, doc[name]) for name in _ECS if name in doc]
    if "groups" in doc:
        ecs.append(("group", {"name": doc["groups"]}))
    return Identity(doc, tuple(ecs), {name: doc[name] for name in _DETAILS if name in doc})


# The CRC-32 of every key, sorted, in the index file: a worker answers "no entry has this key" from this array
# (4 bytes a key, 1.6 MB for 100,000 people) without a query: most event values are numbers and ids never seen
# before, and a query of a SIP URI's three keys cost ~10 us. A hash shared by another key only costs the query.
_HASH_TYPE = "I"  # 32 bits on every platform Python runs on: a CRC-32 each


def key_hashes(keys: Iterable[str]) -> bytes:
    return array(_HASH_TYPE, sorted({crc32(key.encode()) for key in keys})).tobytes()


_BITS_PER_KEY = 16  # a bitmap of ~16 bits a key (1 MiB for 100,000 people): ~6 % of absent keys pass to the hashes
_MIN_BITS_LOG2, _MAX_BITS_LOG2 = 16, 27  # 8 KiB to 16 MiB


def key_bits(hashes: bytes) -> bytes:
    """The bitmap of `KeyFilter`: a bit set for the top bits of each hash (written once, with the index)."""
    sorted_hashes = array(_HASH_TYPE, hashes)
    size_log2 = max(_MIN_BITS_LOG2, min(_MAX_BITS_LOG2, (len(sorted_hashes) * _BITS_PER_KEY).bit_length()))
    shift = 32 - size_log2
    bits = bytearray(1 << (size_log2 - 3))
    for h in sorted_hashes:
        top = h >> shift
        bits[top >> 3] |= 1 << (top & 7)
    return bytes(bits)


class KeyFilter:
    """Whether the index may hold a key, answered without a query: the sorted CRC-32s of its keys, and a bitmap
    of their top bits (`key_bits`), both stored in the index file. The bitmap answers most absent keys with one
    byte read; bisecting the 4-byte array alone cost ~8k instructions a key (every step makes a Python int). A
    hash shared by another key only costs the query."""

    __slots__ = ("_bits", "_hashes", "_shift")

    def __init__(self, hashes: array[int], bits: bytes) -> None:
        self._hashes = hashes
        self._bits = bits
        self._shift = 32 - ((len(bits) * 8).bit_length() - 1)  # a bitmap of 2**n bits holds the top n bits

    def holds(self, key: str) -> bool:
        h = crc32(key.encode())
        top = h >> self._shift
        if not self._bits[top >> 3] >> (top & 7) & 1:
            return False
        hashes = self._hashes
        i = bisect_left(hashes, h)
        return i < len(hashes) and hashes[i] == h


@functools.cache
def _find_sql(keys: int) -> str:
    """The query of `keys` keys with their entries (one text per count: sqlite3 keeps it prepared)."""
    return ("SELECT k.key, k.identity, i.doc FROM keys k JOIN identities i ON i.id = k.identity "
            f"WHERE k.key IN ({','.join('?' * keys)})")


class IdentityIndex:
    """Read side, one per worker: key -> identity through SQLite, entries decoded once each (bounded cache);
    reopens when the file is replaced."""

    def __init__(self, path: Path, cache_size: int = CACHE_ENTRIES) -> None:
        self.path = path
        self.cache_size = cache_size
        self._entries: OrderedDict[int, Identity] = OrderedDict()  # identity id -> decoded entry
        self._db: sqlite3.Connection | None = None
        self._stamp: tuple[int, int] | None = None
        self.generation: object = None  # a new object each time another file is opened
        self.kinds: frozenset[str] | None = None  # kinds of key in the file; None: not known, try every key
        self._filter: KeyFilter | None = None  # the keys' hashes; None: not known, try every key

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
            try:
                hashes, bits = db.execute("SELECT hashes, bits FROM key_hashes").fetchone()
                key_filter: KeyFilter | None = KeyFilter(array(_HASH_TYPE, hashes), bits)
            except sqlite3.OperationalError:  # a file written before the key hashes (or their bitmap) were
                key_filter = None
        except sqlite3.Error as exc:
            log.warning("Cannot open the identity index; events are not enriched with identities until it is "
                        "rebuilt.", extra={"path": str(self.path), "error": str(exc)})
            return
        self._db, self._stamp, self.kinds, self._filter = db, stamp, kinds, key_filter
        self.generation = object()

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db, self._stamp, self.kinds, self._filter = None, None, None, None
        self._entries.clear()
        self.generation = object()

    @property
    def available(self) -> bool:
        return self._db is not None

    def find(self, keys: list[str]) -> dict[str, Any] | None:
        """The directory entry of the first key that is known."""
        found = self.identity(keys)
        return found.doc if found is not None else None

    def identity(self, keys: list[str]) -> Identity | None:
        db = self._db
        if db is None:
            return None
        if (key_filter := self._filter) is not None:
            # no entry has a key of another hash (most values are new, and of kinds no entry has): no query
            if len(keys) == 1:  # the most common case, without building a list
                if not key_filter.holds(keys[0]):
                    return None
            else:
                keys = [key for key in keys if key_filter.holds(key)]
        elif (kinds := self.kinds) is not None:  # an index without the hashes: no query of a kind it lacks
            keys = [key for key in keys if key[:key.find(":")] in kinds]
        if len(keys) == 1:
            row = db.execute(_find_sql(1), keys).fetchone()
            return self._entry(row[1], row[2]) if row is not None else None
        if not keys:
            return None
        # one query for all of a value's keys (a SIP URI has up to four), with the entry: the most specific
        # known key wins
        known = {key: (ident, doc) for key, ident, doc in db.execute(_find_sql(len(keys)), keys).fetchall()}
        for key in keys:
            if (found := known.get(key)) is not None:
                return self._entry(*found)
        return None

    def _entry(self, ident: int, doc: bytes) -> Identity:
        """The entry of `ident` (its stored document `doc`), decoded once while it is in the cache."""
        entries = self._entries
        entry = entries.get(ident)
        if entry is not None:
            entries.move_to_end(ident)
            return entry
        entry = entries[ident] = _identity(orjson.loads(doc))
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
        self._lookup: Callable[[dict[str, Any]], tuple[int, int]]  # written for each index (`_use_generation`)
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
        self._lookup = lookup_function(self._parents, self._active, self._find)

    def _find_uncached(self, value: str) -> Identity | None:
        return self.index.identity(value_keys(value, self.normalize))


Plan = list[tuple[tuple[tuple[str, ...], str], str, tuple[tuple[int, str, bool], ...]]]


def lookup_function(parents: list[tuple[str, ...]], plan: Plan,
                    find: Callable[[str], Identity | None]) -> Callable[[dict[str, Any]], tuple[int, int]]:
    """The lookups of `plan` as one generated function of an event (see `ucsiem.codegen`): each parent object
    read once, inline; per target, its fields in order until one is found (`find`), which is applied (the
    directory only adds: what the log said stays); a target whose fields were all tried in vain is tagged.
    Returns (targets found, targets tagged unknown)."""
    reads = ObjectReads()
    holders = [reads.name(path) for path in parents]
    lines = ["def lookup(event):", "    hits = 0", "    missed = None", *reads.lines]
    scope: dict[str, Any] = {"find": find, "add_tag": _tag, "MAX": MAX_LOOKUP_CHARS}
    for (ecs_path, details_key), miss_tag, fields in plan:
        lines += ["    tried = False", "    while True:"]
        for parent_index, key, _ in fields:
            holder = holders[parent_index]
            lines += [f"        v = {holder}.get({key!r}) if {holder} is not None else None",
                      "        if v.__class__ is str and v:",
                      "            tried = True",
                      "            f = find(v) if len(v) <= MAX else None",
                      "            if f is not None:",
                      *_apply_lines(ecs_path, details_key, "                "),
                      "                hits += 1",
                      "                break"]
        lines += ["        if tried:",
                  f"            missed = [{miss_tag!r}] if missed is None else [*missed, {miss_tag!r}]",
                  "        break"]
    lines += ["    if missed is None:", "        return hits, 0",
              "    for tag in sorted(missed):", "        add_tag(event, tag)", "    return hits, len(missed)"]
    return generated("\n".join(lines) + "\n", scope, "<identity lookups>", "lookup")  # type: ignore[no-any-return]


def _apply_lines(ecs_path: tuple[str, ...], details_key: str, indent: str) -> list[str]:
    """Source that writes the found identity `f` into `event`: its ECS fields at `ecs_path` where the event has
    none, and its details at uc.identity.<details_key> unless there are some."""
    lines = ["node = event"]
    for part in ecs_path:
        lines += [f"child = node.get({part!r})",
                  f"if child is None: child = node[{part!r}] = {{}}",
                  "node = child"]
    lines += ["if node:",
              "    for name, value in f.ecs:",
              "        if name not in node: node[name] = value",
              "else:",
              "    node.update(f.ecs)",
              "if f.details:",
              "    uc = event.get('uc')",
              "    if uc is None: uc = event['uc'] = {}",
              "    known = uc.get('identity')",
              "    if known is None: known = uc['identity'] = {}",
              f"    if {details_key!r} not in known: known[{details_key!r}] = f.details"]
    return [indent + line for line in lines]


def _tag(event: dict[str, Any], tag: str) -> None:
    tags = event.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)
