"""fetch_ldap against a real OpenLDAP slapd (tests/integration/slapd.py), made to look like AD + Skype for Business.

One slapd with 10,500 users serves the module (its size limit of 1000 makes paging necessary); the hostname test
starts a second, small one whose certificate names another host. No mock stands in for the directory.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.slapd import (
    ADMINS_GROUP,
    ALL_USERS_GROUP,
    HOST,
    PEOPLE,
    SIZE_LIMIT,
    SUFFIX,
    Slapd,
    running_slapd,
    user_attributes,
    user_dn,
    user_guid,
    user_name,
)
from ucsiem.enrich.config import DEFAULT_LDAP_ATTRIBUTES, LdapSourceConfig
from ucsiem.enrich.ldap_source import fetch_ldap
from ucsiem.errors import EnrichmentError

USERS = 10_500

pytestmark = [
    # ldap3 2.9 checks the server's name with ssl.match_hostname, deprecated since Python 3.7 (pytest makes the
    # warning an error; the agent runs with Python's default filters, which hide it).
    pytest.mark.filterwarnings(r"ignore:ssl\.match_hostname\(\) is deprecated:DeprecationWarning"),
    # ldap3 2.9 drops the socket of a failed connect, and the TLS socket whose certificate names another host,
    # without closing them; CPython closes them when they are freed, with this warning (ldap_source.py makes no
    # socket of its own).
    pytest.mark.filterwarnings(r"ignore:unclosed <(socket\.socket|ssl\.SSLSocket):ResourceWarning"),
]


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    with running_slapd(tmp_path_factory.mktemp("slapd"), users=USERS) as server:
        yield server
    with pytest.raises(OSError), socket.create_connection((HOST, server.ldap_port), timeout=2):
        pass  # slapd is gone


def config(slapd: Slapd, **overrides: Any) -> LdapSourceConfig:
    """The reader over ldaps:// with the private CA, unless overridden."""
    settings: dict[str, Any] = {
        "type": "ldap", "id": "corp-ad", "url": slapd.ldaps_url, "bind_dn": slapd.reader_dn,
        "password_file": slapd.secret_file("reader-password", slapd.reader_password), "base_dn": SUFFIX,
        "tls": {"ca_file": slapd.certs.ca}, "timeout_secs": 10,
    }
    settings.update(overrides)
    return LdapSourceConfig.model_validate(settings)


def by_name(records: list[dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    table = {record["name"][0]: record for record in records}
    assert len(table) == len(records), "two records with one name"
    return table


def expected(i: int) -> dict[str, list[str]]:
    """What the default (AD) attribute map makes of user i, except `id` (entryUUID is the server's)."""
    attrs = user_attributes(i)
    record: dict[str, list[str]] = {}
    for field, names in DEFAULT_LDAP_ATTRIBUTES.items():
        values = [value for name in names for value in attrs.get(name, []) if isinstance(value, str)]
        if field != "id" and values:
            record[field] = list(dict.fromkeys(values))
    return record


def assert_uuid(text: str) -> None:
    assert str(uuid.UUID(text)) == text, text


@pytest.fixture(scope="module")
def everyone(slapd: Slapd) -> list[dict[str, list[str]]]:
    """The whole directory with the defaults (page_size 500), read once for the mapping tests."""
    cfg = config(slapd)
    assert cfg.page_size == 500
    return fetch_ldap(cfg, slapd.reader_password)


# ---------------------------------------------------------------- what comes back

def test_plain_search_stops_at_the_size_limit(slapd: Slapd) -> None:
    """The premise of the paging test: without the paged results control the reader gets 1000 entries."""
    found = subprocess.run(["ldapsearch", "-x", "-H", slapd.ldap_url, "-D", slapd.reader_dn, "-y",
                            str(slapd.secret_file("reader-password", slapd.reader_password)), "-b", PEOPLE,
                            "(objectClass=person)", "1.1"], capture_output=True, text=True, timeout=30, check=False)
    assert found.returncode == 4, found.stderr  # sizeLimitExceeded
    assert f"# numEntries: {SIZE_LIMIT}\n" in found.stdout
    assert SIZE_LIMIT < USERS


def test_every_entry_comes_back_through_paged_search(everyone: list[dict[str, list[str]]]) -> None:
    table = by_name(everyone)
    assert sorted(table) == [user_name(i) for i in range(USERS)]  # no group or service account: not persons
    for i in range(USERS):
        record = dict(table[user_name(i)])
        ids = record.pop("id")
        assert record == expected(i), i
        guid = user_guid(i)
        assert len(ids) == (2 if guid else 1)
        if guid:
            assert ids[0] == str(guid)  # objectGUID first, in AD's text form
        assert_uuid(ids[-1])  # OpenLDAP's entryUUID
    assert len({record["id"][-1] for record in everyone}) == USERS


def test_records_field_by_field(everyone: list[dict[str, list[str]]]) -> None:
    table = by_name(everyone)
    zero = table["user00000"]
    assert zero["name"] == ["user00000"]  # sAMAccountName and uid hold the same name: once
    assert zero["email"] == ["user00000@example.com"]
    assert zero["full_name"] == ["Jürgen Ünal-Łukasiewicz", "User 0"]  # displayName, then cn; UTF-8 intact
    assert zero["id"][0] == str(uuid.uuid5(uuid.UUID("6f1d0c55-8a53-4d8e-9a38-7d2b3f7e1c01"), "user00000"))
    assert zero["department"] == ["Sales"]
    assert zero["title"] == ["Agent"]
    assert zero["site"] == ["Berlin"]
    assert zero["sip_uri"] == ["sip:user00000@example.com"]
    assert zero["extension"] == ["1000"]
    # telephoneNumber, mobile, ipPhone, msRTCSIP-Line, otherTelephone (two values), in the map's order.
    assert zero["phone_numbers"] == ["+49 30 1000000", "+49 170 2000000", "1000", "tel:+49305000000;ext=1000",
                                     "+49 30 3000000", "+49 30 4000000"]
    assert zero["groups"] == [ALL_USERS_GROUP, ADMINS_GROUP]
    assert "manager" not in zero  # user00000 has none: the field is left out, not empty

    one = table["user00001"]
    assert one["full_name"] == ["Given1 Surname1", "User 1"]
    assert one["manager"] == [user_dn(0)]
    assert one["phone_numbers"] == ["030 1000001", "+49 170 2000001", "1001", "tel:+49305000001;ext=1001"]
    assert one["groups"] == [ALL_USERS_GROUP]
    assert len(one["id"]) == 1  # odd users have no objectGUID: entryUUID only
    assert_uuid(one["id"][0])

    assert table["user00002"]["phone_numbers"][0] == "+1 (212) 555-0002"
    assert table["user10499"]["manager"] == [user_dn(10490)]


def test_custom_attribute_map_and_filter(slapd: Slapd) -> None:
    cfg = config(slapd, filter="(|(uid=user00000)(uid=user00001))",
                 attributes={"name": ["UID"],  # attribute names match without regard to case
                             "id": ["objectGUID"], "roles": ["title", "department"],
                             "extension": ["jpegPhoto"], "macs": ["carLicense"]})  # none has carLicense
    records = sorted(fetch_ldap(cfg, slapd.reader_password), key=lambda r: r["name"])
    assert records == [
        {"name": ["user00000"], "id": [str(user_guid(0))], "roles": ["Agent", "Sales"]},
        {"name": ["user00001"], "roles": ["Engineer", "Support"], "extension": ["ffd8ffe000104a464946"]},
    ]  # other bytes than a GUID: hex


def test_filter_selects(slapd: Slapd) -> None:
    cfg = config(slapd, filter=f"(&(objectClass=person)(department=Engineering)(memberOf={ADMINS_GROUP}))",
                 attributes={"name": ["uid"], "groups": ["memberOf"]})
    records = fetch_ldap(cfg, slapd.reader_password)
    assert sorted(r["name"][0] for r in records) == [user_name(i) for i in range(50, USERS, 100)]
    assert all(r["groups"] == [ALL_USERS_GROUP, ADMINS_GROUP] for r in records)


def test_starttls_and_anonymous(slapd: Slapd) -> None:
    cfg = config(slapd, url=slapd.ldap_url, start_tls=True, bind_dn=None, password_file=None,
                 filter="(uid=user00002)")
    [record] = fetch_ldap(cfg, None)
    assert record["name"] == ["user00002"]
    assert record["sip_uri"] == ["sip:user00002@example.com"]


def test_changed_entries_seen_by_the_next_fetch(slapd: Slapd) -> None:
    cfg = config(slapd, filter="(|(uid=user00003)(uid=newcomer))")
    before = by_name(fetch_ldap(cfg, slapd.reader_password))
    assert sorted(before) == ["user00003"]
    assert before["user00003"]["department"] == ["Finance"]

    slapd.modify(f"""dn: {user_dn(3)}
changetype: modify
replace: telephoneNumber
telephoneNumber: +49 30 9999999
-
replace: department
department: Security
-
add: memberOf
memberOf: {ADMINS_GROUP}

dn: uid=newcomer,{PEOPLE}
changetype: add
objectClass: inetOrgPerson
objectClass: ucsiemADUser
uid: newcomer
cn: New Comer
sn: Comer
ipPhone: 4711
msRTCSIP-PrimaryUserAddress: sip:newcomer@example.com
""")
    try:
        after = by_name(fetch_ldap(cfg, slapd.reader_password))
        assert sorted(after) == ["newcomer", "user00003"]
        assert after["user00003"]["phone_numbers"][0] == "+49 30 9999999"
        assert after["user00003"]["department"] == ["Security"]
        assert after["user00003"]["groups"] == [ALL_USERS_GROUP, ADMINS_GROUP]
        assert after["newcomer"]["sip_uri"] == ["sip:newcomer@example.com"]
        assert after["newcomer"]["phone_numbers"] == ["4711"]
    finally:
        slapd.modify(f"""dn: {user_dn(3)}
changetype: modify
replace: telephoneNumber
telephoneNumber: +49 30 1000003
-
replace: department
department: Finance
-
delete: memberOf
memberOf: {ADMINS_GROUP}

dn: uid=newcomer,{PEOPLE}
changetype: delete
""")
    again = by_name(fetch_ldap(cfg, slapd.reader_password))
    assert sorted(again) == ["user00003"]  # a deleted entry is gone from the next fetch
    assert again["user00003"]["department"] == ["Finance"]


# ---------------------------------------------------------------- failures, each naming the source

def test_directory_down(slapd: Slapd) -> None:
    cfg = config(slapd, filter="(uid=user00004)")
    slapd.stop()
    try:
        with pytest.raises(EnrichmentError) as caught:
            fetch_ldap(cfg, slapd.reader_password)
    finally:
        slapd.start()
    assert str(caught.value) == (f"LDAP identity source corp-ad: cannot reach {slapd.ldaps_url}: "
                                 "connection refused")
    assert len(fetch_ldap(cfg, slapd.reader_password)) == 1  # back


def test_wrong_bind_password(slapd: Slapd) -> None:
    wrong = "not-the-reader-password"
    with pytest.raises(EnrichmentError) as caught:
        fetch_ldap(config(slapd), wrong)
    message = str(caught.value)
    assert message.startswith("LDAP identity source corp-ad: ")
    assert f"the directory refused the bind of {slapd.reader_dn} (invalidCredentials)" in message
    assert wrong not in message and slapd.reader_password not in message


def test_empty_password_is_not_an_anonymous_bind(slapd: Slapd) -> None:
    with pytest.raises(EnrichmentError, match=f"corp-ad: the password for {slapd.reader_dn} is empty"):
        fetch_ldap(config(slapd), "")


@pytest.mark.parametrize("start_tls", [False, True], ids=["ldaps", "starttls"])
def test_untrusted_certificate(slapd: Slapd, start_tls: bool) -> None:
    url = slapd.ldap_url if start_tls else slapd.ldaps_url
    cfg = config(slapd, url=url, start_tls=start_tls, tls={"ca_file": slapd.certs.other_ca})
    with pytest.raises(EnrichmentError) as caught:
        fetch_ldap(cfg, slapd.reader_password)
    message = str(caught.value)
    assert message.startswith(f"LDAP identity source corp-ad: {'StartTLS' if start_tls else 'TLS'} with {url} failed")
    assert "the server's certificate is not trusted" in message
    assert str(slapd.certs.other_ca) in message


def test_certificate_for_another_name(tmp_path: Path) -> None:
    with running_slapd(tmp_path, users=3, cert="wrong_name") as other:  # SAN DNS:wrong.example only
        for start_tls in (False, True):
            url = other.ldap_url if start_tls else other.ldaps_url
            cfg = config(other, url=url, start_tls=start_tls)
            with pytest.raises(EnrichmentError, match=r"certificate is not valid for 127\.0\.0\.1 \(name mismatch"):
                fetch_ldap(cfg, other.reader_password)
            unchecked = config(other, url=url, start_tls=start_tls, tls={"ca_file": other.certs.ca,
                                                                         "check_hostname": False})
            assert len(fetch_ldap(unchecked, other.reader_password)) == 3  # the chain is still verified
            with pytest.raises(EnrichmentError, match="not trusted"):
                fetch_ldap(config(other, url=url, start_tls=start_tls,
                                  tls={"ca_file": other.certs.other_ca, "check_hostname": False}),
                           other.reader_password)


def test_size_limit_half_way_through_paging_raises(slapd: Slapd) -> None:
    """`limited` may read 100 entries per paged search: the first three pages of 30 arrive, then the error."""
    cfg = config(slapd, bind_dn=slapd.limited_dn, password_file=slapd.secret_file("lim", slapd.limited_password),
                 page_size=30)
    with pytest.raises(EnrichmentError) as caught:
        fetch_ldap(cfg, slapd.limited_password)
    message = str(caught.value)
    assert "corp-ad: the directory stopped the search at a size limit after 90 entries (sizeLimitExceeded)" in message
    assert slapd.limited_dn in message


def test_bad_base_dn_and_filter(slapd: Slapd) -> None:
    with pytest.raises(EnrichmentError) as caught:
        fetch_ldap(config(slapd, base_dn=f"ou=nowhere,{SUFFIX}"), slapd.reader_password)
    assert str(caught.value) == (f"LDAP identity source corp-ad: base_dn ou=nowhere,{SUFFIX} does not exist in the "
                                 f"directory (noSuchObject); the closest existing entry is {SUFFIX}")
    with pytest.raises(EnrichmentError, match=r"corp-ad: invalid filter '\(objectClass=person'"):
        fetch_ldap(config(slapd, filter="(objectClass=person"), slapd.reader_password)
    with pytest.raises(EnrichmentError, match="corp-ad: invalid base_dn 'not a dn'"):
        fetch_ldap(config(slapd, base_dn="not a dn"), slapd.reader_password)


def test_silent_server_times_out(slapd: Slapd) -> None:
    """A port that accepts connections and never answers: the fetch ends after timeout_secs."""
    with socket.socket() as silent:
        silent.bind((HOST, 0))
        silent.listen()
        url = f"ldap://{HOST}:{silent.getsockname()[1]}"
        cfg = config(slapd, url=url, start_tls=True, timeout_secs=1)
        with pytest.raises(EnrichmentError, match=f"corp-ad: StartTLS with {url} failed: "):
            fetch_ldap(cfg, slapd.reader_password)


@contextlib.contextmanager
def cutting_relay(port: int, cut_after: int) -> Iterator[int]:
    """A TCP relay to 127.0.0.1:port that closes both sides once the server has sent ``cut_after`` bytes."""
    listener = socket.create_server((HOST, 0))

    def pump(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        with contextlib.suppress(OSError):
            while (limit is None or sent < limit) and (data := src.recv(65536)):
                data = data if limit is None else data[:limit - sent]
                dst.sendall(data)
                sent += len(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        with contextlib.suppress(OSError):
            client, _ = listener.accept()
            upstream = socket.create_connection((HOST, port))
            pumps = [threading.Thread(target=pump, args=(client, upstream, None)),
                     threading.Thread(target=pump, args=(upstream, client, cut_after))]
            for thread in pumps:
                thread.start()
            for thread in pumps:
                thread.join()
            client.close()
            upstream.close()

    server = threading.Thread(target=serve)
    server.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        server.join(timeout=10)


def test_connection_lost_half_way_through_paging_raises(slapd: Slapd) -> None:
    """The server's answers stop after 1 MB (a few pages of 500 entries): an error, never the pages so far."""
    with cutting_relay(slapd.ldap_port, cut_after=1_000_000) as port:
        cfg = config(slapd, url=f"ldap://{HOST}:{port}", allow_insecure=True)
        with pytest.raises(EnrichmentError) as caught:
            fetch_ldap(cfg, slapd.reader_password)
    match = re.match(r"LDAP identity source corp-ad: the directory stopped answering after (\d+) entries "
                     r"\((\d+) pages\): ", str(caught.value))
    assert match, caught.value
    assert int(match.group(1)) == 500 * int(match.group(2)) > 0
