"""Identity enrichment: keys that meet, the index file the workers share, precedence, last good copies,
and what lands where in an event."""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sourcehelp import ran_on_source
from ucsiem.enrich.config import EnrichConfig, FileSourceConfig, IdentityConfig, PrivacyConfig
from ucsiem.enrich.identity import (
    INDEX_NAME,
    MAX_KEY_BYTES,
    Identity,
    IdentityEnricher,
    IdentityIndex,
    build_index,
    index_info,
    read_file_source,
)
from ucsiem.enrich.keys import identity_keys, uri_parts, value_keys
from ucsiem.enrich.refresh import IdentityRefresher
from ucsiem.errors import EnrichmentError
from ucsiem.schema.fast import validate_event


def german(text: str) -> str | None:
    """A stand-in number normaliser with home region DE (the real one is phonenumbers')."""
    digits = "".join(c for c in text if c.isdigit())
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    if digits.startswith("0") and len(digits) > 6:
        return "+49" + digits[1:]
    return None


@pytest.mark.parametrize(("value", "expected"), [
    ("sip:alice@example.com", ("alice", "example.com")),
    ('"Alice" <sips:Alice@Example.COM:5061;transport=tls>;tag=1', ("Alice", "example.com")),
    ("sip:+4930123456@gw.example.com;user=phone", ("+4930123456", "gw.example.com")),
    ("tel:+1-202-555-0100;phone-context=example.com", ("+1-202-555-0100", None)),
    ("sip:bob:secret@pbx.example.com?subject=x", ("bob", "pbx.example.com")),
    ("1004", ("1004", None)),
])
def test_uri_parts(value: str, expected: tuple[str, str | None]) -> None:
    assert uri_parts(value) == expected


def test_every_key_kind_from_event_values() -> None:
    assert value_keys("EXAMPLE\\Alice") == ["user:alice"]
    assert value_keys("alice") == ["user:alice"]
    assert value_keys("Alice@Example.com") == ["email:alice@example.com", "sip:alice@example.com"]
    assert value_keys("sip:alice@example.com;transport=tls") == ["sip:alice@example.com", "email:alice@example.com"]
    assert value_keys("sip:1004@192.0.2.10") == ["sip:1004@192.0.2.10", "email:1004@192.0.2.10", "ext:1004"]
    assert value_keys("0049 30 1234567", german) == ["e164:+49301234567"]
    assert value_keys("030 1234567", german) == ["e164:+49301234567"]
    assert value_keys("tel:+49-30-1234567", german) == ["e164:+49301234567"]
    assert value_keys("192.0.2.7") == ["ip:192.0.2.7"]
    assert value_keys("2001:DB8::1") == ["ip:2001:db8::1"]
    assert value_keys("00-1A-2B-3C-4D-5E") == ["mac:00:1a:2b:3c:4d:5e"]
    assert value_keys("") == [] and value_keys("x" * 600) == []


URI_PARTS = st.sampled_from(["sip:", "SIP:", "sips:", "Sips:", "tel:", "h323:", "", "sip: ", " sip:", "<sip:"])
USER_PARTS = st.one_of(st.from_regex(r"\+?[0-9]{1,16}", fullmatch=True), st.sampled_from(
    ["alice", "Bob.Jones", "1004", "+49301234567", "030 1234567", "a;b", "bob:pw", "", "x" * 600, "\\dom", "a b"]))
HOST_PARTS = st.sampled_from(["example.com", "EXAMPLE.com", "10.0.0.1", "h:5061", "h;transport=tls", "", "a@b",
                              "h>", "h ", "h\n", "ex\u00e4mple.de"])


@settings(max_examples=2000, deadline=None)
@given(value=st.one_of(st.builds(lambda s, u, h, at: f"{s}{u}{'@' if at else ''}{h if at else ''}",
                                 URI_PARTS, USER_PARTS, HOST_PARTS, st.booleans()), st.text(max_size=40)))
def test_the_quick_reading_of_uris_and_numbers_gives_the_general_keys(value: str) -> None:
    from ucsiem.enrich import keys

    assert value_keys(value, german) == keys._keys_of(value, german)
    assert value_keys(value) == keys._keys_of(value, None)


def test_a_foreign_domain_is_never_taken_for_a_local_user() -> None:
    """sip:alice@evil.example must not be enriched as our alice (a caller can choose its From)."""
    assert "user:alice" not in value_keys("sip:alice@evil.example")
    assert "user:alice" not in value_keys("alice@evil.example")


def test_directory_entry_keys() -> None:
    keys = identity_keys({"name": ["EXAMPLE\\alice"], "email": ["Alice@example.com"],
                          "sip_uri": ["sip:alice@example.com"], "extension": ["1004"],
                          "phone_numbers": ["+49 30 1234567", "tel:+49-170-1234567", "030 7654321", "1004"],
                          "ips": ["192.0.2.44", "bogus"], "macs": ["001A2B3C4D5E"]}, german)
    assert keys == ["user:alice", "email:alice@example.com", "sip:alice@example.com", "ext:1004",
                    "e164:+49301234567", "e164:+491701234567", "e164:+49307654321", "ip:192.0.2.44",
                    "mac:00:1a:2b:3c:4d:5e"]


USERS_CSV = """sAMAccountName,mail,displayName,telephoneNumber,ipPhone,msRTCSIP-PrimaryUserAddress,department,memberOf
alice,alice@example.com,Alice Example,+49 30 1234567;+49 170 1234567,1004,sip:alice@example.com,Voice,UC Admins;Staff
bob,bob@example.com,Bob Example,030 7654321,1005,sip:bob@example.com,Sales,Staff
"""
CSV_FIELDS = {"name": ["sAMAccountName"], "email": ["mail"], "full_name": ["displayName"],
              "phone_numbers": ["telephoneNumber"], "extension": ["ipPhone"],
              "sip_uri": ["msRTCSIP-PrimaryUserAddress"], "department": ["department"], "groups": ["memberOf"]}


def csv_source(tmp_path: Path, text: str = USERS_CSV, name: str = "users.csv") -> FileSourceConfig:
    path = tmp_path / name
    path.write_text(text)
    return FileSourceConfig(type="csv", path=path, fields=CSV_FIELDS)


def test_csv_and_json_sources(tmp_path: Path) -> None:
    [alice, bob] = read_file_source(csv_source(tmp_path))
    assert alice["phone_numbers"] == ["+49 30 1234567", "+49 170 1234567"]
    assert alice["groups"] == ["UC Admins", "Staff"] and bob["extension"] == ["1005"]
    (tmp_path / "u.json").write_text(json.dumps([{"name": "carol", "phone_numbers": ["+441632960001"]}]))
    assert read_file_source(FileSourceConfig(type="json", path=tmp_path / "u.json")) == [
        {"name": ["carol"], "phone_numbers": ["+441632960001"]}]
    (tmp_path / "u.ndjson").write_text('{"name": "dave"}\n{"name": "erin", "email": "erin@example.com"}\n')
    assert len(read_file_source(FileSourceConfig(type="json", path=tmp_path / "u.ndjson"))) == 2


@pytest.mark.parametrize("content", ['{"name": "x"', "[1, 2]"])
def test_a_broken_file_source_names_itself(tmp_path: Path, content: str) -> None:
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(EnrichmentError, match=r"identity source bad.json: .*bad.json is not valid JSON"):
        read_file_source(FileSourceConfig(type="json", path=tmp_path / "bad.json"))
    with pytest.raises(EnrichmentError, match="cannot read"):
        read_file_source(FileSourceConfig(type="csv", path=tmp_path / "missing.csv"))


def index_of(tmp_path: Path, sources: list[tuple[str, Any]]) -> IdentityIndex:
    build_index(tmp_path / INDEX_NAME, sources, german)
    index = IdentityIndex(tmp_path / INDEX_NAME)
    index.refresh()
    return index


def test_lookups_by_every_key_kind(tmp_path: Path) -> None:
    records = read_file_source(csv_source(tmp_path))
    records[0]["ips"] = ["192.0.2.44"]
    index = index_of(tmp_path, [("hr", records)])
    for value in ("alice", "EXAMPLE\\alice", "alice@example.com", "sip:alice@example.com;transport=tls",
                  "1004", "+49 30 1234567", "004930 1234567", "030 1234567", "tel:+49-170-1234567",
                  "sip:+4930123 4567@gw.example.com", "192.0.2.44"):
        doc = index.find(value_keys(value, german))
        assert doc is not None and doc["name"] == "alice", value
    assert index.find(value_keys("030 7654321", german))["name"] == "bob"  # type: ignore[index]
    assert index.find(value_keys("mallory", german)) is None


def test_the_first_source_wins_a_shared_key(tmp_path: Path) -> None:
    first = [{"name": ["alice"], "phone_numbers": ["+49301234567"], "department": ["Voice"]}]
    second = [{"name": ["alice2"], "phone_numbers": ["+49301234567"], "department": ["Other"]},
              {"name": ["bob"]}]
    index = index_of(tmp_path, [("ad", first), ("csv", second)])
    assert index.find(["e164:+49301234567"])["department"] == "Voice"  # type: ignore[index]
    assert index.find(["user:bob"])["source"] == "csv"  # type: ignore[index]


def test_a_failed_source_keeps_its_last_good_rows_and_a_new_file_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / INDEX_NAME
    build_index(path, [("ad", [{"name": ["alice"]}]), ("csv", [{"name": ["bob"]}])], None)
    reader = IdentityIndex(path)
    reader.refresh()
    assert reader.find(["user:alice"]) is not None
    build_index(path, [("ad", None), ("csv", [{"name": ["carol"]}])], None)  # ad down: its rows kept
    assert reader.find(["user:carol"]) is None  # the open file is the old one until the next batch
    reader.refresh()
    assert reader.find(["user:alice"])["source"] == "ad"  # type: ignore[index]
    assert reader.find(["user:carol"]) is not None and reader.find(["user:bob"]) is None


def event(**fields: Any) -> dict[str, Any]:
    return {"@timestamp": datetime(2024, 5, 1, tzinfo=UTC), **fields}


def test_what_lands_where(tmp_path: Path) -> None:
    index = index_of(tmp_path, [("hr", read_file_source(csv_source(tmp_path)))])
    enricher = IdentityEnricher(index, IdentityConfig().lookups, german)
    ev = event(user={"name": "alice"}, source={"user": {"name": "1004"}},
               uc={"call": {"caller": "1004", "callee": "030 7654321"}, "sip": {"to_uri": "sip:mallory@example.com"}})
    enricher.enrich(ev)
    assert ev["user"] == {"name": "alice", "email": "alice@example.com", "full_name": "Alice Example",
                          "group": {"name": ["UC Admins", "Staff"]}}
    assert ev["source"]["user"]["name"] == "1004"  # what the log said stays
    assert ev["source"]["user"]["email"] == "alice@example.com"
    assert ev["destination"]["user"]["name"] == "bob"
    assert ev["uc"]["identity"]["destination"] == {
        "department": "Sales", "sip_uri": "sip:bob@example.com", "extension": "1005",
        "phone_numbers": ["+49307654321"], "source": "hr"}
    assert ev["uc"]["identity"]["user"]["phone_numbers"] == ["+49301234567", "+491701234567"]
    assert "tags" not in ev
    validate_event(ev)  # what enrichment adds fits the schema
    miss = event(uc={"sip": {"from_uri": "sip:mallory@evil.example"}})
    enricher.enrich(miss)
    assert miss["tags"] == ["identity_unknown_source_user"]
    assert (enricher.hits, enricher.misses) == (3, 1)


def test_privacy_on_one_event_leaves_the_identity_other_events_share(tmp_path: Path) -> None:
    """A found identity's objects are shared by every event it is found for; privacy copies an object before
    it changes it, so hashing or removing fields in one event changes neither the next event nor the cache."""
    from ucsiem.enrich.privacy import Privacy

    index = index_of(tmp_path, [("hr", read_file_source(csv_source(tmp_path)))])
    enricher = IdentityEnricher(index, IdentityConfig().lookups, german)
    privacy = Privacy(PrivacyConfig(hash_fields=["user.group.name", "uc.identity.user.department", "user.email"],
                                    redact_fields=["uc.identity.user.phone_numbers", "user.full_name"],
                                    hmac_key_file="k"), b"k" * 32)
    first, second = event(user={"name": "alice"}), event(user={"name": "alice"})
    enricher.enrich(first)
    enricher.enrich(second)
    assert first["user"]["group"] is second["user"]["group"]  # shared, as designed
    clear = copy.deepcopy(second)
    privacy.apply(first)
    assert first["user"]["group"]["name"][0] != "UC Admins" and "full_name" not in first["user"]
    assert "phone_numbers" not in first["uc"]["identity"]["user"]
    assert first["uc"]["identity"]["user"]["department"] != "Voice"
    assert second == clear  # the other event, and so the identity both hold, as found
    third = event(user={"name": "alice"})
    enricher.enrich(third)
    assert third == clear


def test_only_kinds_of_key_the_directory_holds_are_looked_up(tmp_path: Path) -> None:
    people = read_file_source(csv_source(tmp_path))
    index = index_of(tmp_path, [("hr", people)])
    assert index.kinds == frozenset({"user", "email", "sip", "ext", "e164"})
    enricher = IdentityEnricher(index, IdentityConfig().lookups, german)
    from_ip = event(source={"ip": "192.0.2.44"})
    enricher.enrich(from_ip)
    # no entry has an address: the lookup cannot succeed, so it neither queries nor calls anyone unknown
    assert "tags" not in from_ip and (enricher.hits, enricher.misses) == (0, 0)
    assert index.find(["ip:192.0.2.44", "user:alice"])["name"] == "alice"  # type: ignore[index]

    people[0]["ips"] = ["192.0.2.44"]
    index = index_of(tmp_path, [("hr", people)])  # rebuilt with an address
    assert "ip" in index.kinds  # type: ignore[operator]
    enricher = IdentityEnricher(index, IdentityConfig().lookups, german)
    enricher.enrich(from_ip)
    assert from_ip["source"]["user"]["name"] == "alice"
    stranger = event(source={"ip": "192.0.2.45"})
    enricher.enrich(stranger)
    assert stranger["tags"] == ["identity_unknown_source_user"]


def test_refresher_keeps_going_when_a_source_fails(tmp_path: Path) -> None:
    good = csv_source(tmp_path)
    broken = FileSourceConfig(type="json", path=tmp_path / "gone.json", id="second")
    refresher = IdentityRefresher(EnrichConfig(identity=IdentityConfig(sources=[good, broken])), tmp_path)
    refresher.refresh_once()
    assert refresher.stats.entries == {"users.csv": 2, "second": 0}
    assert refresher.stats.failures == {"second": 1}
    (tmp_path / "gone.json").write_text('[{"name": "carol"}]')
    refresher.refresh_once()
    assert refresher.stats.entries == {"users.csv": 2, "second": 1} and refresher.stats.refreshes == 2
    good.path.unlink()  # now the first one fails: its two rows stay
    refresher.refresh_once()
    assert refresher.stats.entries == {"users.csv": 2, "second": 1}
    assert refresher.stats.failures == {"second": 1, "users.csv": 1}
    assert oct((tmp_path / INDEX_NAME).stat().st_mode & 0o777) == "0o600"


def test_the_most_specific_known_key_of_a_value_wins(tmp_path: Path) -> None:
    # the SIP URI is carol's, the extension in its user part is bob's: one query, the URI decides
    records = [{"name": ["bob"], "extension": ["1005"]}, {"name": ["carol"], "sip_uri": ["sip:1005@example.com"]}]
    index = index_of(tmp_path, [("hr", records)])
    assert value_keys("sip:1005@example.com", german)[-1] == "ext:1005"
    assert index.find(value_keys("sip:1005@example.com", german))["name"] == "carol"  # type: ignore[index]
    assert index.find(value_keys("1005", german))["name"] == "bob"  # type: ignore[index]


def refresher_for(tmp_path: Path, *sources: FileSourceConfig, interval: float = 300) -> IdentityRefresher:
    cfg = EnrichConfig(identity=IdentityConfig(sources=list(sources), refresh_interval_secs=interval))
    return IdentityRefresher(cfg, tmp_path)


def test_a_restart_starts_from_the_index_of_the_same_configuration(tmp_path: Path) -> None:
    source = csv_source(tmp_path)
    first = refresher_for(tmp_path, source)
    asyncio.run(first.start())  # no index yet: built before reading
    assert first.stats.refreshes == 1 and first.stats.entries == {"users.csv": 2}
    built = (tmp_path / INDEX_NAME).stat()

    again = refresher_for(tmp_path, source)
    asyncio.run(again.start())
    assert again.stats.refreshes == 0  # used as it is, not read again
    assert (tmp_path / INDEX_NAME).stat().st_ino == built.st_ino
    assert again.stats.entries == {"users.csv": 2} and again.stats.keys == first.stats.keys
    assert 290 < again.next_refresh_secs <= 300  # refreshed when due, counted from when it was built

    other = csv_source(tmp_path, name="other.csv")  # another configuration: built anew before reading
    changed = refresher_for(tmp_path, source, other)
    asyncio.run(changed.start())
    assert changed.stats.refreshes == 1 and changed.stats.entries == {"users.csv": 2, "other.csv": 2}


def test_an_index_with_a_failed_source_is_used_and_refreshed_at_once(tmp_path: Path) -> None:
    good = csv_source(tmp_path)
    broken = FileSourceConfig(type="json", path=tmp_path / "gone.json", id="second")
    refresher_for(tmp_path, good, broken).refresh_once()
    info = index_info(tmp_path / INDEX_NAME)
    assert info is not None and info.failed and info.entries == {"users.csv": 2, "second": 0}
    restarted = refresher_for(tmp_path, good, broken)
    asyncio.run(restarted.start())
    assert restarted.stats.refreshes == 0 and restarted.next_refresh_secs == 0


@pytest.mark.parametrize("content", [b"SQLite format 3\x00" + bytes(4080), b"", b"not an index"])
def test_a_file_that_is_no_index_is_rebuilt(tmp_path: Path, content: bytes) -> None:
    """An earlier version's SQLite index (or anything else) where the index belongs: not used, rebuilt."""
    source = csv_source(tmp_path)
    (tmp_path / INDEX_NAME).write_bytes(content)
    assert index_info(tmp_path / INDEX_NAME) is None
    reader = IdentityIndex(tmp_path / INDEX_NAME)
    reader.refresh()  # logged, not raised: events go on without identities
    assert not reader.available and reader.find(["user:alice"]) is None
    (tmp_path / "identity.db").write_bytes(b"SQLite format 3\x00")  # the former index, with personal data
    restarted = refresher_for(tmp_path, source)
    asyncio.run(restarted.start())
    assert restarted.stats.refreshes == 1 and not (tmp_path / "identity.db").exists()
    reader.refresh()
    assert reader.find(["user:alice"])["name"] == "alice"  # type: ignore[index]


@pytest.mark.parametrize("digits", ["1", "5582", "977016", "1234567", "12345678", "442079460000", "001122334455",
                                    "0" * 41, "1" * 42])
def test_plain_digits_get_the_keys_their_general_reading_gives(digits: str) -> None:
    """Plain ASCII digits (extensions, the commonest value) skip the address and dial-string checks: the keys
    are those the general path gives the same digits with a separator that changes nothing for it."""
    from ucsiem.enrich.phone import PhoneAnalyzer

    normalize = PhoneAnalyzer("GB").normalize
    keys = value_keys(digits, normalize)
    if len(digits) == 12:
        assert keys == ["mac:" + ":".join(digits[i:i + 2] for i in range(0, 12, 2))]
    elif len(digits) > 41:
        assert keys == ["user:" + digits]
    else:
        spaced = digits[0] + " " + digits[1:] if len(digits) > 1 else digits
        numbers = [key for key in value_keys(spaced, normalize) if not key.startswith("user:")]
        assert keys == (numbers or ["user:" + digits]), spaced


def test_every_key_an_entry_has_is_found_and_no_other(tmp_path: Path) -> None:
    records = [{"name": [f"user{i}"], "email": [f"user{i}@example.com"], "sip_uri": [f"sip:{1000 + i}@example.com"],
                "extension": [str(1000 + i)], "phone_numbers": [f"+4930{i:07d}"]} for i in range(3000)]
    index = index_of(tmp_path, [("hr", records)])
    for i, record in enumerate(records):
        for key in identity_keys(record, german):
            found = index.find([key])
            assert found is not None and found["name"] == f"user{i}", key
    for i in range(3000, 6000):  # what events mostly hold: numbers and ids no entry has
        assert index.find(value_keys(f"sip:+4930{i:07d}@example.com", german)) is None
        assert index.find(value_keys(f"user{i}", german)) is None
    info = index_info(index.path)
    assert info is not None and info.keys == sum(len(identity_keys(r, german)) for r in records)
    assert info.kinds == frozenset({"user", "email", "sip", "ext", "e164"})


def test_keys_longer_than_the_file_allows_are_found(tmp_path: Path) -> None:
    """Directory values may be 1,024 characters of 4-byte UTF-8; LMDB keys are at most 511 bytes."""
    long_name, near = "\U0001F4DE" * 1000, "a" * (MAX_KEY_BYTES - len("user:"))
    index = index_of(tmp_path, [("hr", [{"name": [long_name], "department": ["Long"]}, {"name": [near]},
                                        {"name": [near + "b"]}])])
    assert index.find(["user:" + long_name])["department"] == "Long"  # type: ignore[index]
    assert index.find(["user:" + long_name[:-1]]) is None
    assert index.find(["user:" + near])["name"] == near  # type: ignore[index]
    assert index.find(["user:" + near + "b"])["name"] == near + "b"  # type: ignore[index]
    assert index_info(index.path).kinds == frozenset({"user"})  # type: ignore[union-attr]


def test_an_index_larger_than_its_first_map_is_written_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             request: pytest.FixtureRequest) -> None:
    """LMDB's map is sized before writing; a guess too small is doubled until every entry fits."""
    if ran_on_source(request, "ucsiem.enrich.identity"):  # the first guess is made small by replacing map_size
        return
    monkeypatch.setattr("ucsiem.enrich.identity.map_size", lambda docs, owners: 64 * 1024)
    records = [{"name": [f"u{i}"], "title": ["t" * 1000], "groups": [f"g{j}" for j in range(20)]}
               for i in range(4000)]
    index = index_of(tmp_path, [("hr", records)])
    assert all(index.find([f"user:u{i}"])["name"] == f"u{i}" for i in range(0, 4000, 7))  # type: ignore[index]
    assert index_info(index.path).entries == {"hr": 4000}  # type: ignore[union-attr]


def reference_apply(event_: dict[str, Any], where: tuple[tuple[str, ...], str], found: Identity) -> None:
    """A found identity written into an event, step by step: its ECS fields where the event has none, its
    details at uc.identity.<side> unless the event has some."""
    ecs_path, details_key = where
    node = event_
    for part in ecs_path:
        node = node.setdefault(part, {})
    for name, value in found.ecs.items():
        node.setdefault(name, value)
    if found.details:
        event_.setdefault("uc", {}).setdefault("identity", {}).setdefault(details_key, found.details)


def reference_lookup(enricher: IdentityEnricher, event_: dict[str, Any]) -> tuple[int, int]:
    """The lookup plan read step by step (what `Lookups` must do)."""
    from ucsiem.enrich import identity

    hits, missed = 0, []
    for where, miss_tag, fields in enricher._active:
        tried = False
        for parent_index, key, _ in fields:
            node: Any = event_
            for part in enricher._parents[parent_index]:
                node = node.get(part) if type(node) is dict else None
            value = node.get(key) if type(node) is dict else None
            if type(value) is not str or not value:
                continue
            tried = True
            found = enricher.index.identity(value_keys(value, enricher.normalize)) if len(value) <= 512 else None
            if found is not None:
                reference_apply(event_, where, found)
                hits += 1
                break
        else:
            if tried:
                missed.append(miss_tag)
    for tag in sorted(missed):
        identity._tag(event_, tag)
    return hits, len(missed)


LOOKUP_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(["alice", "1004", "030 7654321", "sip:bob@example.com", "mallory", "", "x" * 600, "EXAMPLE\\alice",
                     "192.0.2.44"]),
    st.integers(), st.none(), st.just({}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_lookups_do_what_the_plan_says(tmp_path: Path, data: st.DataObject) -> None:
    index = index_of(tmp_path, [("hr", read_file_source(csv_source(tmp_path)))])
    lookups = IdentityConfig().lookups
    shape: dict[str, Any] = {}
    for path in data.draw(st.lists(st.sampled_from(sorted(lookups)), max_size=8)):
        node = shape
        *parents, key = path.split(".")
        for part in parents:
            node = node.setdefault(part, {}) if type(node.get(part, {})) is dict else {}
        node[key] = data.draw(LOOKUP_VALUES)
    ours, theirs = event(**copy.deepcopy(shape)), event(**copy.deepcopy(shape))
    enricher = IdentityEnricher(index, lookups, german)
    enricher.enrich(ours)
    assert (enricher.hits, enricher.misses) == reference_lookup(enricher, theirs)
    assert ours == theirs
