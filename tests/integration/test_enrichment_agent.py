"""The whole enrichment stage in the real agent: Expressway lines in, identities from a real slapd (LDAPS with
a private CA) and a CSV file, phone numbers, GeoIP/ASN from MaxMind's test databases, a keyed hash; then a
changed directory entry picked up by the next refresh, and the directory going down (last good copy kept,
the failure counted)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.agenthelp import events, start, stop, wait_for
from tests.integration.slapd import SUFFIX, Slapd, running_slapd, user_dn
from ucsiem.enrich.config import PrivacyConfig
from ucsiem.enrich.privacy import Privacy

GEOIP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "geoip"
KEY = b"0123456789abcdef0123456789abcdef"

# The Expressway event log format of parsers/cisco_expressway/tests/event-log.log; the values are the test's.
CALL = ('2024-05-14T10:02:11.220+02:00 expc01 tvcs: Event="Call Attempted" Service="SIP" Src-ip="{ip}" '
        'Src-port="5061" Src-alias-type="SIP" Src-alias="{src}" Dst-alias-type="SIP" Dst-alias="{dst}" '
        'Call-serial-number="3f1c2a9e-5b7d-4e11-9a0c-6d2e8f4b1a7{n}" Tag="c0a8e1f2-1111-4a2b-8c3d-9e0f1a2b3c4d" '
        'Protocol="TLS" Auth="YES" Level="1" UTCTime="2024-05-14 08:02:11,219"\n')


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    with running_slapd(tmp_path_factory.mktemp("slapd"), users=50) as server:
        yield server


def write_config(tmp: Path, slapd: Slapd, log: Path) -> Path:
    (tmp / "extensions.csv").write_text("user,ext,display\nlobby-phone,2999,Lobby Phone\n")
    key = tmp / "pseudonym.key"
    key.write_bytes(KEY)
    key.chmod(0o600)
    config = {
        "agent": {"data_dir": str(tmp / "state"), "stats_interval_secs": 0.5},
        "inputs": [{"id": "exp", "paths": [str(log)], "parser": "cisco_expressway", "poll_interval_secs": 0.1}],
        "outputs": [{"type": "file", "path": str(tmp / "out" / "events.ndjson")}],
        "pipeline": {"workers": 1},
        "enrich": {
            "phone": {"home_region": "DE"},
            "identity": {"refresh_interval_secs": 1, "sources": [
                {"type": "ldap", "id": "corp-ad", "url": slapd.ldaps_url, "bind_dn": slapd.reader_dn,
                 "password_file": str(slapd.secret_file("reader-password", slapd.reader_password)),
                 "base_dn": SUFFIX, "tls": {"ca_file": str(slapd.certs.ca)}},
                {"type": "csv", "path": str(tmp / "extensions.csv"),
                 "fields": {"name": ["user"], "extension": ["ext"], "full_name": ["display"]}},
            ]},
            "geo": {"city_db": str(GEOIP / "GeoLite2-City-Test.mmdb"), "asn_db": str(GEOIP / "GeoLite2-ASN-Test.mmdb")},
            "privacy": {"hash_fields": ["uc.call.callee"], "hmac_key_file": str(key)},
        },
    }
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def append(log: Path, *lines: str) -> None:
    with log.open("a") as fh:
        fh.write("".join(lines))


def by_serial(tmp: Path) -> dict[str, dict[str, Any]]:
    return {e["uc"]["call"]["leg_id"][-1]: e for e in events(tmp) if e.get("uc", {}).get("call", {}).get("leg_id")}


def agent_records(tmp: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp / "agent.log").read_text().splitlines() if line.startswith("{")]


def test_enrichment_end_to_end(tmp_path: Path, slapd: Slapd) -> None:
    log = tmp_path / "expressway.log"
    append(log,
           # user00004 (LDAP, by SIP URI) calls user00006's desk number (+49 30 1000006, dialled nationally)
           CALL.format(n=1, ip="81.2.69.142", src="sip:user00004@example.com", dst="sip:0301000006@example.com"),
           # extension 1005 (user00005's ipPhone) calls Jamaica; the CSV's lobby phone; nobody
           CALL.format(n=2, ip="192.0.2.21", src="sip:1005@192.0.2.10", dst="sip:+18762345678@example.com"),
           CALL.format(n=3, ip="10.1.2.3", src="sip:2999@192.0.2.10", dst="sip:mallory@evil.example"))
    config = write_config(tmp_path, slapd, log)
    proc = start(config)
    wait_for(lambda: len(by_serial(tmp_path)) == 3, timeout=60, what="the first three calls")
    calls = by_serial(tmp_path)

    first = calls["1"]
    assert first["source"]["user"]["email"] == "user00004@example.com"
    assert first["uc"]["identity"]["source"]["department"] == "Sales"  # DEPARTMENTS[4 % 4]
    assert first["uc"]["identity"]["source"]["source"] == "corp-ad"
    assert first["destination"]["user"]["email"] == "user00006@example.com"
    assert first["uc"]["call"]["callee_number"] == "+49301000006"
    assert first["uc"]["call"]["callee_country"] == "DE" and first["uc"]["call"]["callee_international"] is False
    assert first["source"]["geo"]["country_iso_code"] == "GB"
    assert first["source"]["geo"]["city_name"] == "London"
    privacy = Privacy(PrivacyConfig(hash_fields=["uc.call.callee"], hmac_key_file=Path("k")), KEY)
    assert first["uc"]["call"]["callee"] == privacy.pseudonym("sip:0301000006@example.com")  # hashed, not clear
    assert "0301000006" not in json.dumps(first["uc"]["call"]["callee"])

    second = calls["2"]
    assert second["source"]["user"]["email"] == "user00005@example.com"  # found by extension
    assert second["uc"]["call"]["callee_country"] == "JM" and second["uc"]["call"]["callee_international"] is True
    assert "source_internal" in second["tags"]  # 192.0.2.21: documentation range, not looked up
    assert "geo" not in second["source"]

    third = calls["3"]
    assert third["source"]["user"]["full_name"] == "Lobby Phone"  # the CSV source
    assert "identity_unknown_destination_user" in third["tags"]  # nobody is mallory@evil.example

    # a changed entry is picked up by the next refresh
    slapd.modify(f"dn: {user_dn(4)}\nchangetype: modify\nreplace: department\ndepartment: Fraud Desk\n")
    time.sleep(2.5)
    append(log, CALL.format(n=4, ip="81.2.69.142", src="sip:user00004@example.com", dst="sip:1005@example.com"))
    wait_for(lambda: "4" in by_serial(tmp_path), timeout=30, what="the fourth call")
    assert by_serial(tmp_path)["4"]["uc"]["identity"]["source"]["department"] == "Fraud Desk"

    # the directory goes down: the last good copy stays, the failure is logged and counted
    slapd.stop()
    try:
        wait_for(lambda: any(r.get("message", "").startswith("Identity source failed")
                             for r in agent_records(tmp_path)), timeout=30, what="the failed refresh")
        append(log, CALL.format(n=5, ip="81.2.69.142", src="sip:user00004@example.com", dst="sip:1005@example.com"))
        wait_for(lambda: "5" in by_serial(tmp_path), timeout=30, what="the fifth call")
        fifth = by_serial(tmp_path)["5"]
        assert fifth["uc"]["identity"]["source"]["department"] == "Fraud Desk"
        assert fifth["destination"]["user"]["email"] == "user00005@example.com"
        failure = next(r for r in agent_records(tmp_path) if r.get("message", "").startswith("Identity source failed"))
        # slapd going down while a refresh is connected ends that refresh in its bind ("session terminated by
        # server"); one that starts later finds nobody listening: both name the source and its address
        assert failure["source"] == "corp-ad"
        assert re.match(r"LDAP identity source corp-ad: cannot (reach|bind to) ldaps://127\.0\.0\.1:\d+: ",
                        failure["error"]), failure["error"]
        assert slapd.reader_password not in (tmp_path / "agent.log").read_text()
        stop(proc)
    finally:
        slapd.start()
    stats = [r["stats"] for r in agent_records(tmp_path) if r.get("message") == "Agent stopped."][-1]
    assert stats["identity"]["failures"]["corp-ad"] >= 1
    assert stats["identity"]["entries"] == {"corp-ad": 50, "extensions.csv": 1}
    # found: both parties of calls 1, 4 and 5, the caller of 2 and 3; not found: the callees of 2 and 3
    assert stats["enrichment"]["identity_found"] == 8
    assert stats["enrichment"]["identity_unknown_destination_user"] == 2
    assert stats["enrichment"]["source_internal"] == 2
