"""GeoIP/ASN enrichment against MaxMind's own test databases (../shared/data/geoip, see PROVENANCE.md)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import maxminddb
import pytest

from ucsiem.enrich import geo
from ucsiem.enrich.config import GeoConfig
from ucsiem.enrich.geo import GeoEnricher
from ucsiem.errors import EnrichmentError
from ucsiem.schema.fast import validate_event

REPO = Path(__file__).resolve().parents[2]
GEOIP = REPO.parent / "shared" / "data" / "geoip"
CITY_DB = GEOIP / "GeoLite2-City-Test.mmdb"
ASN_DB = GEOIP / "GeoLite2-ASN-Test.mmdb"
ANON_DB = GEOIP / "GeoIP2-Anonymous-IP-Test.mmdb"

LONDON = {
    "city_name": "London", "continent_code": "EU", "continent_name": "Europe", "country_iso_code": "GB",
    "country_name": "United Kingdom", "region_iso_code": "GB-ENG", "region_name": "England",
    "timezone": "Europe/London", "location": {"lat": 51.5142, "lon": -0.0931},
}
MILTON = {
    "city_name": "Milton", "continent_code": "NA", "continent_name": "North America", "country_iso_code": "US",
    "country_name": "United States", "region_iso_code": "US-WA", "region_name": "Washington",
    "postal_code": "98354", "timezone": "America/Los_Angeles", "location": {"lat": 47.2513, "lon": -122.3149},
}
SAN_DIEGO = {  # IPv6
    "city_name": "San Diego", "continent_code": "NA", "continent_name": "North America", "country_iso_code": "US",
    "country_name": "United States", "region_iso_code": "US-CA", "region_name": "California",
    "postal_code": "92101", "timezone": "America/Los_Angeles", "location": {"lat": 32.7203, "lon": -117.1552},
}
NORWAY = {  # country-level record: no city, region or postal code
    "continent_code": "EU", "continent_name": "Europe", "country_iso_code": "NO", "country_name": "Norway",
    "timezone": "Europe/Oslo", "location": {"lat": 62.0, "lon": 10.0},
}
TELSTRA = {"number": 1221, "organization": {"name": "Telstra Pty Ltd"}}
SUNRISE = {"number": 6730, "organization": {"name": "Sunrise Communications AG"}}  # IPv6


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def enricher(city: Path | None = CITY_DB, asn: Path | None = ASN_DB, **kwargs: Any) -> GeoEnricher:
    return GeoEnricher(GeoConfig(city_db=city, asn_db=asn), **kwargs)


def event(src: str | None = None, dst: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"@timestamp": datetime(2024, 6, 15, 12, tzinfo=UTC), "event": {"kind": "event"}}
    if src is not None:
        out["source"] = {"ip": src}
    if dst is not None:
        out["destination"] = {"ip": dst}
    out.update(extra)
    return out


class SpyReader:
    """A database reader whose lookups go to `get` (the enricher's readers are replaced: its functions may be
    compiled, where patching a module's function changes nothing)."""

    def __init__(self, reader: Any, get: Callable[[str], Any]) -> None:
        self.reader, self.get = reader, get

    def close(self) -> None:
        self.reader.close()


def spy_readers(e: GeoEnricher, get: Callable[[str], Any]) -> None:
    for db in (e._city, e._asn):
        assert db is not None
        db.reader = SpyReader(db.reader, get)


@pytest.fixture
def geo_enricher() -> Iterator[GeoEnricher]:
    e = enricher()
    yield e
    e.close()


def test_the_test_databases_are_there() -> None:
    # The shared data sits beside the clone; a missing file must fail loudly, not skip.
    for path in (CITY_DB, ASN_DB, ANON_DB):
        assert path.is_file(), path


@pytest.mark.parametrize(("ip", "expected"), [
    ("81.2.69.142", {"geo": LONDON}),  # not in the ASN test database: no `as`
    ("216.160.83.56", {"geo": MILTON, "as": {"number": 209}}),  # an AS with no organization name there
    ("2001:480::1", {"geo": SAN_DIEGO}),
    ("2a02:cf40::1", {"geo": NORWAY}),
])
def test_geo_fields(geo_enricher: GeoEnricher, ip: str, expected: dict[str, Any]) -> None:
    ev = event(src=ip, dst=ip)
    geo_enricher.enrich(ev)
    assert ev["source"] == {"ip": ip, **expected}
    assert ev["destination"] == ev["source"]
    assert "tags" not in ev


@pytest.mark.parametrize(("ip", "expected_as"), [("1.128.0.0", TELSTRA), ("2001:1700::1", SUNRISE)])
def test_as_fields(geo_enricher: GeoEnricher, ip: str, expected_as: dict[str, Any]) -> None:
    ev = event(dst=ip)
    geo_enricher.enrich(ev)
    assert ev["destination"]["as"] == expected_as
    # In the ASN database but not the City one: unknown there.
    assert "geo" not in ev["destination"]
    assert ev["tags"] == ["destination_geo_unknown"]


def test_ipv4_inside_ipv6_is_looked_up_as_ipv4(geo_enricher: GeoEnricher) -> None:
    for ip in ("::ffff:81.2.69.142", "64:ff9b::5102:458e", "2002:5102:458e::1"):  # mapped, NAT64, 6to4
        ev = event(src=ip)
        geo_enricher.enrich(ev)
        assert ev["source"]["geo"] == LONDON, ip
    ev = event(src="::ffff:1.128.0.0")
    geo_enricher.enrich(ev)
    assert ev["source"]["as"] == TELSTRA


INTERNAL = [
    "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "169.254.10.20", "100.64.0.1",
    "100.127.255.255", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
    "192.0.2.10", "198.51.100.7", "203.0.113.99", "198.18.0.1", "192.0.0.8",
    "::", "::1", "fe80::1", "fd12:3456:789a::1", "fc00::1", "ff02::1", "fec0::1", "2001:db8::1", "3fff::1",
    "::ffff:10.0.0.1", "::ffff:192.168.1.1", "64:ff9b::a00:1", "2002:c0a8:101::1", "::10.0.0.1", "100::1",
]


@pytest.mark.parametrize("ip", INTERNAL)
def test_internal_addresses_are_tagged_and_not_looked_up(ip: str) -> None:
    e = enricher()
    looked_up: list[str] = []
    spy_readers(e, looked_up.append)
    ev = event(src=ip, dst=ip)
    e.enrich(ev)
    e.close()
    assert ev["tags"] == ["source_internal", "destination_internal"]
    assert ev["source"] == {"ip": ip}
    assert ev["destination"] == {"ip": ip}
    assert looked_up == []


@pytest.mark.parametrize("ip", ["100.63.255.255", "100.128.0.0", "172.32.0.1", "11.0.0.1", "192.0.3.1",
                                "2606:4700::1111", "1.1.1.1"])
def test_public_neighbours_of_internal_ranges_are_looked_up(ip: str) -> None:
    e = enricher()
    looked_up: list[str] = []
    spy_readers(e, looked_up.append)
    ev = event(src=ip)
    e.enrich(ev)
    e.close()
    assert looked_up == [ip, ip]  # city, then ASN
    assert ev["tags"] == ["source_geo_unknown"]


def test_unknown_public_address(geo_enricher: GeoEnricher) -> None:
    ev = event(src="1.1.1.1", dst="81.2.69.142", tags=["keep"])
    geo_enricher.enrich(ev)
    assert ev["source"] == {"ip": "1.1.1.1"}
    assert ev["tags"] == ["keep", "source_geo_unknown"]
    geo_enricher.enrich(ev)  # again: no duplicate tags, nothing overwritten
    assert ev["tags"] == ["keep", "source_geo_unknown"]
    assert ev["destination"]["geo"] == LONDON


def test_unknown_is_only_said_with_a_city_database() -> None:
    e = enricher(city=None)
    ev = event(src="1.1.1.1", dst="1.128.0.0")
    e.enrich(ev)
    e.close()
    assert "tags" not in ev
    assert ev["source"] == {"ip": "1.1.1.1"}
    assert ev["destination"] == {"ip": "1.128.0.0", "as": TELSTRA}


def test_internal_tagging_without_databases() -> None:
    e = enricher(city=None, asn=None)
    ev = event(src="10.0.0.1", dst="81.2.69.142")
    e.enrich(ev)
    assert ev["tags"] == ["source_internal"]
    assert ev["destination"] == {"ip": "81.2.69.142"}


def test_parser_fields_are_not_overwritten(geo_enricher: GeoEnricher) -> None:
    parser_geo = {"country_iso_code": "FR"}
    parser_as = {"number": 64500}
    ev = event(src="81.2.69.142", dst="1.128.0.0")
    ev["source"]["geo"] = parser_geo
    ev["destination"]["as"] = parser_as
    geo_enricher.enrich(ev)
    assert ev["source"]["geo"] is parser_geo and parser_geo == {"country_iso_code": "FR"}
    assert ev["destination"]["as"] is parser_as and parser_as == {"number": 64500}
    assert ev["tags"] == ["destination_geo_unknown"]  # its `as` was set, but where it is nobody said
    ev2 = event(src="1.1.1.1")
    ev2["source"]["geo"] = {"country_iso_code": "AU"}
    geo_enricher.enrich(ev2)
    assert "tags" not in ev2  # the parser knew where it is: not "unknown"


def test_cached_results_are_not_shared_between_events(geo_enricher: GeoEnricher) -> None:
    first, second = event(src="81.2.69.142", dst="1.128.0.0"), event(src="81.2.69.142", dst="1.128.0.0")
    geo_enricher.enrich(first)
    del first["source"]["geo"]["location"]["lat"]  # a later stage (privacy redaction) edits the event
    first["destination"]["as"]["organization"]["name"] = "x"
    first["source"]["geo"]["city_name"] = "y"
    geo_enricher.enrich(second)
    assert second["source"]["geo"] == LONDON
    assert second["destination"]["as"] == TELSTRA


def test_cache_is_bounded() -> None:
    e = enricher(cache_size=4)
    for i in range(50):
        e.enrich(event(src=f"81.2.69.{i}"))
    info = e._lookup.cache_info()
    e.close()
    assert info.currsize == 4 and info.misses == 50


def test_no_endpoints_is_a_no_op(geo_enricher: GeoEnricher) -> None:
    ev = event(source={"port": 5060}, destination={})
    before = repr(ev)
    geo_enricher.enrich(ev)
    assert repr(ev) == before


def test_enriched_event_validates(geo_enricher: GeoEnricher) -> None:
    for src, dst in [("81.2.69.142", "1.128.0.0"), ("2001:480::1", "2001:1700::1"), ("10.0.0.1", "1.1.1.1"),
                     ("2a02:cf40::1", "89.160.20.112")]:
        ev = event(src=src, dst=dst)
        geo_enricher.enrich(ev)
        validated = validate_event(ev)
        assert validated["source"] == ev["source"] and validated["destination"] == ev["destination"]
        assert validated.get("tags") == ev.get("tags")


@pytest.mark.parametrize("bad", [
    "not an ip", "x" * 1_000_000, "1.2.3.4\x00", "", "::ffff:999.1.1.1", "01.2.3.4", 12345, None, ["1.2.3.4"],
    b"1.2.3.4", {"ip": "1.2.3.4"}, "\ud800", "[::1]",
])
def test_hostile_ip_values_never_raise(geo_enricher: GeoEnricher, bad: Any) -> None:
    ev = event(src="81.2.69.142", dst="10.0.0.1")
    ev["source"]["ip"] = bad
    geo_enricher.enrich(ev)
    assert ev["source"] == {"ip": bad}
    assert ev["tags"] == ["geo_enrich_error", "destination_internal"]


@pytest.mark.parametrize("hostile", [
    {"source": "not a dict"}, {"source": {"ip": "81.2.69.142"}, "tags": "not a list"},
    {"source": {"ip": "81.2.69.142"}, "tags": None}, {"source": None, "destination": None},
    {"destination": {"ip": "1.1.1.1"}, "tags": 7}, {"source": {"ip": "81.2.69.142", "geo": None, "as": None}},
])
def test_hostile_events_never_raise(geo_enricher: GeoEnricher, hostile: dict[str, Any]) -> None:
    geo_enricher.enrich(hostile)


def test_a_lookup_failure_is_tagged(geo_enricher: GeoEnricher, caplog: pytest.LogCaptureFixture) -> None:
    def boom(address: str) -> Any:
        raise RuntimeError("corrupt search tree")

    spy_readers(geo_enricher, boom)
    ev = event(src="81.2.69.142")
    with caplog.at_level(logging.WARNING, "ucsiem.enrich"):
        geo_enricher.enrich(ev)
        geo_enricher.enrich(event(src="81.2.69.143"))
    assert ev["tags"] == ["geo_enrich_error"]
    assert len(caplog.records) == 1  # rate limited
    assert "corrupt search tree" in caplog.text


def test_missing_database_names_the_key(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mmdb"
    with pytest.raises(EnrichmentError, match=r"enrich\.geo\.city_db.*nope\.mmdb"):
        enricher(city=missing)
    with pytest.raises(EnrichmentError, match=r"enrich\.geo\.asn_db.*nope\.mmdb"):
        enricher(asn=missing)


def test_garbage_database_names_the_key(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.mmdb"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(EnrichmentError, match=r"enrich\.geo\.asn_db.*garbage\.mmdb"):
        enricher(asn=garbage)
    (tmp_path / "empty.mmdb").write_bytes(b"")
    with pytest.raises(EnrichmentError, match=r"enrich\.geo\.city_db.*empty\.mmdb"):
        enricher(city=tmp_path / "empty.mmdb")


@pytest.mark.parametrize(("city", "asn", "key", "kind"), [
    (ASN_DB, None, "city_db", "GeoLite2-ASN"), (ANON_DB, None, "city_db", "GeoIP2-Anonymous-IP"),
    (None, CITY_DB, "asn_db", "GeoLite2-City"), (None, ANON_DB, "asn_db", "GeoIP2-Anonymous-IP"),
])
def test_wrong_kind_of_database_names_the_key(city: Path | None, asn: Path | None, key: str, kind: str) -> None:
    with pytest.raises(EnrichmentError, match=rf"enrich\.geo\.{key}: .* is a {kind} database"):
        enricher(city=city, asn=asn)


def test_uses_the_c_extension_when_built() -> None:
    e = enricher()
    assert geo.MODE == maxminddb.MODE_MMAP_EXT
    assert type(e._city.reader).__module__ == "maxminddb.extension"  # type: ignore[union-attr]
    e.close()


def replace(src: Path, dst: Path) -> None:
    """The way geoipupdate does it: a new file renamed over the old one."""
    tmp = dst.with_suffix(".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def test_a_replaced_database_is_picked_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "city.mmdb"
    shutil.copyfile(CITY_DB, db)
    clock = Clock()
    e = enricher(city=db, asn=None, clock=clock)
    ev = event(src="81.2.69.142")
    e.enrich(ev)
    assert ev["source"]["geo"]["city_name"] == "London"

    # A changed database: strings are length-prefixed, so a same-length edit keeps the file valid.
    changed = tmp_path / "changed.mmdb"
    changed.write_bytes(CITY_DB.read_bytes().replace(b"London", b"Londyn"))
    replace(changed, db)
    clock.now += 0.5
    e.maybe_reload()  # within the interval: not even a stat
    e.enrich(ev := event(src="81.2.69.142"))
    assert ev["source"]["geo"]["city_name"] == "London"
    clock.now += 0.6
    with caplog.at_level(logging.INFO, "ucsiem.enrich"):
        e.maybe_reload()
    assert "enrich.geo.city_db: reloaded" in caplog.text
    e.enrich(ev := event(src="81.2.69.142"))  # the cache was cleared
    assert ev["source"]["geo"] == {**LONDON, "city_name": "Londyn", "timezone": "Europe/Londyn"}
    e.enrich(ev := event(src="2001:480::1"))
    assert ev["source"]["geo"] == SAN_DIEGO
    e.close()


def test_a_bad_replacement_keeps_the_old_database(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "asn.mmdb"
    shutil.copyfile(ASN_DB, db)
    clock = Clock()
    e = enricher(city=None, asn=db, clock=clock)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00" * 1000)
    replace(garbage, db)
    with caplog.at_level(logging.WARNING, "ucsiem.enrich"):
        for _ in range(3):  # one warning per change, however often it is checked
            clock.now += 1.0
            e.maybe_reload()
    assert len(caplog.records) == 1
    assert "enrich.geo.asn_db" in caplog.text and "keeping" in caplog.text
    ev = event(src="1.128.0.0")
    e.enrich(ev)
    assert ev["source"]["as"] == TELSTRA

    db.unlink()  # gone: still the old copy, one more warning
    clock.now += 1.0
    with caplog.at_level(logging.WARNING, "ucsiem.enrich"):
        e.maybe_reload()
        clock.now += 1.0
        e.maybe_reload()
    assert len(caplog.records) == 2
    e.enrich(ev := event(src="1.128.0.0"))
    assert ev["source"]["as"] == TELSTRA

    replace(CITY_DB, db)  # the wrong kind: refused like garbage
    clock.now += 1.0
    with caplog.at_level(logging.WARNING, "ucsiem.enrich"):
        e.maybe_reload()
    assert len(caplog.records) == 3 and "is a GeoLite2-City database" in caplog.records[-1].getMessage()

    replace(ASN_DB, db)  # a good file again
    clock.now += 1.0
    e.maybe_reload()
    e.enrich(ev := event(src="2001:1700::1"))
    assert ev["source"]["as"] == SUNRISE
    e.close()


@pytest.mark.parametrize(("record", "expected"), [
    (None, (None, None)), ("text", (None, None)), ({}, (None, None)), ({"city": "London"}, (None, None)),
    ({"country": {"iso_code": "GB", "names": ["en"]}, "subdivisions": ["ENG"]}, ({"country_iso_code": "GB"}, None)),
    ({"subdivisions": [{"iso_code": "ENG"}], "city": {"names": {"en": ""}}}, (None, None)),  # no country: no region
    ({"location": {"latitude": 91.0, "longitude": 0}}, (None, None)),  # would make the event invalid
    ({"location": {"latitude": float("nan"), "longitude": 0}}, (None, None)),
    ({"location": {"latitude": True, "longitude": 0}}, (None, None)),
    ({"location": {"latitude": -90, "longitude": 180, "time_zone": 3}}, ({}, (-90.0, 180.0))),
])
def test_odd_city_records_give_only_valid_fields(record: Any, expected: Any) -> None:
    assert geo._geo_of(record) == expected


@pytest.mark.parametrize(("record", "expected"), [
    (None, None), ({}, None), ({"autonomous_system_number": True}, None), ({"autonomous_system_number": 2**64}, None),
    ({"autonomous_system_number": -1, "autonomous_system_organization": "X"}, (None, "X")),
    ({"autonomous_system_number": 4200000000, "autonomous_system_organization": ""}, (4200000000, None)),
])
def test_odd_asn_records_give_only_valid_fields(record: Any, expected: Any) -> None:
    assert geo._as_of(record) == expected
