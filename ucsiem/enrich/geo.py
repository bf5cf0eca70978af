"""GeoIP and ASN of public source/destination addresses (MaxMind DB files: GeoLite2, GeoIP2, DB-IP).

Runs in every parse worker for every event, so each address is classified and looked up once and the
result kept in a bounded LRU cache (a City lookup decodes every language's names: ~10 µs; a cache hit is
a dict lookup and two small copies). Addresses that are not globally routable are tagged
`<side>_internal` and never looked up.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Final

import maxminddb

from ucsiem.enrich.config import GeoConfig
from ucsiem.errors import EnrichmentError

log = logging.getLogger("ucsiem.enrich")

# The C extension is ~5x faster than the pure-Python reader and, like it, mmaps the file read-only, so all
# parse workers share one copy in the page cache. Fall back to pure-Python MODE_MMAP when it is not built.
try:
    from maxminddb import extension as _extension

    MODE: int = maxminddb.MODE_MMAP_EXT if hasattr(_extension, "Reader") else maxminddb.MODE_MMAP
except ImportError:
    MODE = maxminddb.MODE_MMAP

RELOAD_INTERVAL_SECS: Final = 1.0
CACHE_SIZE: Final = 16_384  # ~1 KB an entry: a few MB per worker
_MAX_IP_TEXT: Final = 45  # longest IPv6 text (full form with a dotted quad); longer is not an address
_ERROR_LOG_INTERVAL_SECS: Final = 60.0

# Not globally routable: tagged internal, not looked up. Explicit lists rather than ipaddress.is_private /
# is_global, whose answers changed between 3.11 patch releases. Documentation and benchmarking ranges are
# included: they never appear as real peers, so a lookup could only return noise.
_V4_INTERNAL: Final = tuple((int(n.network_address), int(n.netmask)) for n in map(IPv4Network, (
    "0.0.0.0/8",        # "this network", unspecified
    "10.0.0.0/8",
    "100.64.0.0/10",    # carrier-grade NAT
    "127.0.0.0/8",
    "169.254.0.0/16",   # link-local
    "172.16.0.0/12",
    "192.0.0.0/24",     # IETF protocol assignments
    "192.0.2.0/24",     # TEST-NET-1 (RFC 5737)
    "192.168.0.0/16",
    "198.18.0.0/15",    # benchmarking
    "198.51.100.0/24",  # TEST-NET-2
    "203.0.113.0/24",   # TEST-NET-3
    "224.0.0.0/4",      # multicast
    "240.0.0.0/4",      # reserved, broadcast
)))
# Inside global unicast 2000::/3; everything outside it (::, ::1, fc00::/7, fe80::/10, ff00::/8...) is
# internal by the first test in _classify.
_V6_INTERNAL: Final = tuple((int(n.network_address), int(n.netmask)) for n in map(IPv6Network, (
    "2001:2::/48",      # benchmarking
    "2001:10::/28",     # ORCHID
    "2001:db8::/32",    # documentation (RFC 3849)
    "3fff::/20",        # documentation (RFC 9637)
)))
# IPv6 forms that carry an IPv4 address: classified and looked up as that IPv4 address.
_V4_MAPPED: Final = 0xFFFF  # ::ffff:0:0/96, upper 96 bits
_NAT64: Final = int(IPv6Network("64:ff9b::/96").network_address) >> 32
_6TO4: Final = 0x2002  # 2002::/16, IPv4 in bits 80-111

# Cached per address: (status, geo fields without location, (lat, lon), (as number, organization)).
_PUBLIC, _INTERNAL, _INVALID = 0, 1, 2
_Geo = dict[str, str]
_Result = tuple[int, _Geo | None, tuple[float, float] | None, tuple[int | None, str | None] | None]
_NOT_PUBLIC: Final[dict[int, _Result]] = {s: (s, None, None, None) for s in (_INTERNAL, _INVALID)}

_CITY_KINDS: Final = ("city", "country", "enterprise")  # GeoLite2/GeoIP2 City, Country; DB-IP City/Country Lite
_ASN_KINDS: Final = ("asn", "isp")  # GeoLite2/DB-IP ASN, GeoIP2 ISP (same autonomous_system_* keys)


def _v4_internal(n: int) -> bool:
    for net, mask in _V4_INTERNAL:  # noqa: SIM110 (`any` of a generator left unfinished: GeneratorExit, 5x slower)
        if n & mask == net:
            return True
    return False


def _classify(ip: str) -> tuple[int, str]:
    """(_PUBLIC, text to look up) | (_INTERNAL, ip) | (_INVALID, ip)."""
    try:
        return (_INTERNAL if _v4_internal(int.from_bytes(socket.inet_pton(socket.AF_INET, ip))) else _PUBLIC), ip
    except (OSError, ValueError):  # ValueError: an embedded NUL
        pass
    try:
        n = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip))
    except (OSError, ValueError):
        return _INVALID, ip
    high = n >> 32
    if high in (_V4_MAPPED, _NAT64) or n >> 112 == _6TO4:
        v4 = (n >> 80 if n >> 112 == _6TO4 else n) & 0xFFFFFFFF
        return (_INTERNAL, ip) if _v4_internal(v4) else (_PUBLIC, socket.inet_ntoa(v4.to_bytes(4)))
    if n >> 125 != 1:  # outside 2000::/3
        return _INTERNAL, ip
    return (_INTERNAL if any(n & mask == net for net, mask in _V6_INTERNAL) else _PUBLIC), ip


_EMPTY: Final[dict[str, Any]] = {}


def _sub(node: dict[str, Any], key: str) -> dict[str, Any]:
    """node[key] when it is a map, else an empty one: a database of another layout yields nothing, not errors."""
    value = node.get(key)
    return value if type(value) is dict else _EMPTY


def _number(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def _geo_of(record: Any) -> tuple[_Geo | None, tuple[float, float] | None]:
    """ECS geo.* (English names) from a GeoIP2/GeoLite2/DB-IP City or Country record; only what it holds."""
    if type(record) is not dict:
        return None, None
    continent, country, location = _sub(record, "continent"), _sub(record, "country"), _sub(record, "location")
    subdivisions = record.get("subdivisions")
    region = subdivisions[0] if type(subdivisions) is list and subdivisions and type(subdivisions[0]) is dict \
        else _EMPTY  # the broadest subdivision, as ECS and Elastic's geoip processor take it
    country_code, region_code = country.get("iso_code"), region.get("iso_code")
    fields: _Geo = {}
    for key, value in (
        ("city_name", _sub(_sub(record, "city"), "names").get("en")),
        ("continent_code", continent.get("code")),
        ("continent_name", _sub(continent, "names").get("en")),
        ("country_iso_code", country_code),
        ("country_name", _sub(country, "names").get("en")),
        ("region_iso_code", f"{country_code}-{region_code}"  # ECS: "CA-QC"
         if type(country_code) is str and type(region_code) is str and country_code and region_code else None),
        ("region_name", _sub(region, "names").get("en")),
        ("postal_code", _sub(record, "postal").get("code")),
        ("timezone", location.get("time_zone")),
    ):
        if type(value) is str and value:
            fields[key] = sys.intern(value)  # the same names fill many cache entries
    lat: Any = location.get("latitude")
    lon: Any = location.get("longitude")
    point = None
    if _number(lat) and _number(lon) and -90 <= lat <= 90 and -180 <= lon <= 180:  # else the event is refused
        point = (float(lat), float(lon))
    return (fields, point) if fields or point else (None, None)


def _as_of(record: Any) -> tuple[int | None, str | None] | None:
    if type(record) is not dict:
        return None
    number, name = record.get("autonomous_system_number"), record.get("autonomous_system_organization")
    if not (type(number) is int and 0 <= number < 2**32):
        number = None
    if not (type(name) is str and name):
        name = None
    return None if number is None and name is None else (number, name)


def _signature(path: Path) -> tuple[int, int, int, int] | None:
    """What tells a replaced or rewritten file apart; None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@dataclass
class _Database:
    key: str  # config key, for messages
    path: Path
    kinds: tuple[str, ...]
    reader: Any  # maxminddb.Reader or maxminddb.extension.Reader
    signature: tuple[int, int, int, int] | None


def _open(key: str, path: Path, kinds: tuple[str, ...]) -> _Database:
    want = "City or Country" if kinds == _CITY_KINDS else "ASN"
    hint = f"point {key} at a GeoLite2/GeoIP2/DB-IP {want} .mmdb file"
    signature = _signature(path)
    try:
        reader = maxminddb.open_database(os.fspath(path), MODE)
    except Exception as exc:  # OSError, InvalidDatabaseError, ValueError: all mean "not usable"
        raise EnrichmentError(f"{key}: cannot open GeoIP database {path}: {exc}; {hint}") from exc
    kind = str(getattr(reader.metadata(), "database_type", ""))
    if not any(k in kind.lower() for k in kinds):
        reader.close()
        raise EnrichmentError(f"{key}: {path} is a {kind or 'untyped'} database, not a {want} one; {hint}")
    return _Database(key, path, kinds, reader, signature)


class GeoEnricher:
    """Adds <side>.geo.* and <side>.as.* for public source/destination addresses; see `enrich`."""

    def __init__(self, cfg: GeoConfig, *, reload_interval_secs: float = RELOAD_INTERVAL_SECS,
                 cache_size: int = CACHE_SIZE, clock: Callable[[], float] = time.monotonic) -> None:
        self._city: _Database | None = None
        self._asn: _Database | None = None
        if cfg.city_db is not None:
            self._city = _open("enrich.geo.city_db", cfg.city_db, _CITY_KINDS)
        if cfg.asn_db is not None:
            try:
                self._asn = _open("enrich.geo.asn_db", cfg.asn_db, _ASN_KINDS)
            except EnrichmentError:
                self.close()
                raise
        self._interval = reload_interval_secs
        self._clock = clock
        self._checked = clock()
        self._errors = 0
        self._error_logged = -math.inf
        # functools' C LRU: the fastest bounded cache there is; cleared after a reload.
        self._lookup = functools.lru_cache(maxsize=cache_size)(self._lookup_uncached)

    def enrich(self, event: dict[str, Any]) -> None:
        """Add geo and AS fields to a validated event, in place (see the module doc). Never raises.

        Internal addresses get the tag `<side>_internal`; a public one the City/Country database does not
        know gets `<side>_geo_unknown`; fields the parser set (`geo`, `as` as a whole) are left alone.
        """
        try:
            source = event.get("source")
            if source is not None and "ip" in source:
                self._enrich_side(event, source, "source_internal", "source_geo_unknown")
            destination = event.get("destination")
            if destination is not None and "ip" in destination:
                self._enrich_side(event, destination, "destination_internal", "destination_geo_unknown")
        except Exception as exc:
            self._failed(event, f"{type(exc).__name__}: {exc}")

    def _enrich_side(self, event: dict[str, Any], endpoint: dict[str, Any], internal: str, unknown: str) -> None:
        ip = endpoint["ip"]
        if type(ip) is not str or len(ip) > _MAX_IP_TEXT:  # keeps junk out of the cache
            self._failed(event, "an ip field holds no IP address")
            return
        status, geo, location, asn = self._lookup(ip)
        if status != _PUBLIC:
            if status == _INTERNAL:
                _tag(event, internal)
            else:
                self._failed(event, "an ip field holds no IP address")
            return
        if endpoint.get("geo") is None:
            if geo is not None:
                fields: dict[str, Any] = geo.copy()  # copies: later stages (privacy) may edit the event
                if location is not None:
                    fields["location"] = {"lat": location[0], "lon": location[1]}
                endpoint["geo"] = fields
            elif self._city is not None:
                _tag(event, unknown)
        if asn is not None and endpoint.get("as") is None:
            number, name = asn
            as_: dict[str, Any] = {}
            if number is not None:
                as_["number"] = number
            if name is not None:
                as_["organization"] = {"name": name}
            endpoint["as"] = as_

    def _lookup_uncached(self, ip: str) -> _Result:
        status, address = _classify(ip)
        if status != _PUBLIC:
            return _NOT_PUBLIC[status]
        geo: _Geo | None = None
        location: tuple[float, float] | None = None
        asn: tuple[int | None, str | None] | None = None
        if self._city is not None:
            geo, location = _geo_of(_get(self._city.reader, address))
        if self._asn is not None:
            asn = _as_of(_get(self._asn.reader, address))
        return _PUBLIC, geo, location, asn

    def _failed(self, event: dict[str, Any], why: str) -> None:
        """Tag the event and log (at most once a minute, with the traceback if any); never raises."""
        self._errors += 1
        with contextlib.suppress(Exception):  # tags is not a list: nothing safe to write
            _tag(event, "geo_enrich_error")
        now = time.monotonic()
        if now - self._error_logged >= _ERROR_LOG_INTERVAL_SECS:
            self._error_logged = now
            log.warning("GeoIP enrichment failed for an event (%d so far, tagged geo_enrich_error): %.200s",
                        self._errors, why, exc_info=sys.exc_info()[0] is not None)

    def maybe_reload(self) -> None:
        """Reopen a database whose file changed (inode, size or mtime), at most one stat per database a second.

        geoipupdate replaces files by atomic rename, so the old mapping stays valid until it is closed here.
        A file that cannot be opened leaves the old reader in use, with one warning per change of the file.
        """
        now = self._clock()
        if now - self._checked < self._interval:
            return
        self._checked = now
        for db in (self._city, self._asn):
            if db is None:
                continue
            signature = _signature(db.path)
            if signature == db.signature:
                continue
            db.signature = signature  # tried once per change: a bad file is not reopened every second
            try:
                fresh = _open(db.key, db.path, db.kinds)
            except Exception as exc:
                log.warning("%s; keeping the copy loaded before", exc)
                continue
            old, db.reader = db.reader, fresh.reader
            db.signature = fresh.signature
            self._lookup.cache_clear()
            old.close()
            log.info("%s: reloaded GeoIP database %s", db.key, db.path)

    def close(self) -> None:
        for db in (self._city, self._asn):
            if db is not None:
                db.reader.close()
        self._city = self._asn = None
        lookup = getattr(self, "_lookup", None)
        if lookup is not None:
            lookup.cache_clear()


def _get(reader: Any, address: str) -> Any:
    try:
        return reader.get(address)
    except ValueError:  # an IPv6 address in an IPv4-only database
        return None


def _tag(event: dict[str, Any], tag: str) -> None:
    tags = event.get("tags")
    if tags is None:
        event["tags"] = [tag]
    elif tag not in tags:
        tags.append(tag)
