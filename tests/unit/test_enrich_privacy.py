"""Privacy: chosen fields leave the agent as keyed hashes or not at all, and related.* agrees."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from ucsiem.enrich.config import EnrichConfig, PrivacyConfig
from ucsiem.enrich.privacy import Privacy
from ucsiem.enrich.stage import Enrichment, EnrichSetup
from ucsiem.normalize import Normalizer, RecordMeta
from ucsiem.parsing.contract import ParseContext, ParsedEvent, ParserSpec, RawRecord

KEY = b"k" * 32
NOW = datetime(2024, 5, 1, tzinfo=UTC)


def mac(value: str) -> str:
    return hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()


def test_hash_and_redact() -> None:
    privacy = Privacy(PrivacyConfig(hash_fields=["user.name", "uc.call.callee", "tags"], redact_fields=["message"],
                                    hmac_key_file="k"), KEY)
    event: dict[str, Any] = {"user": {"name": "alice"}, "uc": {"call": {"callee": "+88213012345"}},
                             "message": "alice called +88213012345", "tags": ["a"]}
    privacy.apply(event)
    assert event == {"user": {"name": mac("alice")}, "uc": {"call": {"callee": mac("+88213012345")}},
                     "tags": [mac("a")]}
    privacy.apply({})  # absent fields: nothing to do


def test_only_text_fields_may_be_hashed_and_every_field_must_exist() -> None:
    with pytest.raises(ValidationError, match=r"'source\.ip' is not a text field"):
        PrivacyConfig(hash_fields=["source.ip"], hmac_key_file="k")
    with pytest.raises(ValidationError, match=r"'user\.nmae' is not a field"):
        PrivacyConfig(redact_fields=["user.nmae"])
    with pytest.raises(ValidationError, match="hash_fields needs hmac_key_file"):
        PrivacyConfig(hash_fields=["user.name"])
    PrivacyConfig(redact_fields=["source.ip", "uc.identity"])  # any field or object may be removed


def test_related_carries_what_is_shipped() -> None:
    def parse(record: RawRecord, ctx: ParseContext) -> list[ParsedEvent]:
        return [{"@timestamp": NOW, "user": {"name": "alice"}, "source": {"ip": "192.0.2.1", "user": {"name": "1004"}}}]

    spec = ParserSpec(id="t", version="1", description="", vendor="V", product="P", observer_type="pbx",
                      dataset="v.p", parse=parse)
    config = EnrichConfig(privacy=PrivacyConfig(hash_fields=["user.name"],
                                                redact_fields=["source.user.name", "event.original"],
                                                hmac_key_file="k"))
    setup = EnrichSetup(config.model_dump(mode="json"), None, KEY)
    normalizer = Normalizer(spec, host_name=None, agent_name=None, enrichment=Enrichment(setup),
                            keep_original=True)
    [doc] = normalizer.process("alice 1004", RecordMeta("k", "p", 0), ParseContext(), NOW)
    event = orjson.loads(doc)
    assert event["user"]["name"] == mac("alice")
    assert "user" not in event["source"]
    assert event["related"]["user"] == [mac("alice")]  # never the clear name beside its hash
    assert b"alice" not in doc and b"1004" not in doc


def test_fields_shared_by_events_are_hashed_and_removed_once_per_event() -> None:
    """The agent's `host` and `agent` and a syslog header's fields are one object for many events: each
    event gets its own pseudonym of the same value, and a redaction in one event leaves the others."""
    from ucsiem.inputs.syslog_record import SyslogBatch
    from ucsiem.parsing.registry import load_registry
    from ucsiem.pipeline.work import BatchJob, run_batch

    cfg = {"privacy": {"hash_fields": ["host.name", "agent.type", "log.syslog.hostname"],
                       "redact_fields": ["observer.ip", "log.syslog.severity.name"], "hmac_key_file": "k"}}
    spec = load_registry().get("cisco_expressway").spec
    line = (b"<134>2024-05-01T10:00:00.000+00:00 expc01 tvcs: UTCTime=\"2024-05-01 10:00:00,000\" "
            b"Module=\"network.sip\" Level=\"INFO\" Action=\"Received\" Src-ip=\"192.0.2.7\" Src-port=\"5060\"")
    for enrichment in (Enrichment(EnrichSetup(cfg, None, KEY)), None):
        normalizer = Normalizer(spec, host_name="agent-host", agent_name=None, enrichment=enrichment)
        batch = SyslogBatch("192.0.2.9", [514] * 3, [NOW.timestamp()] * 3, "UTC", 65536)
        result = run_batch(normalizer, ParseContext(),
                           BatchJob("in", "key", "-", [0, 1, 2], [line] * 3, {}, {}, NOW, NOW, syslog=batch))
        docs = [orjson.loads(doc) for doc in result.docs]
        assert len(docs) == 3
        if enrichment is None:  # the same normalizer code without privacy: nothing was left changed
            assert {d["host"]["name"] for d in docs} == {"agent-host"}
            assert {d["log"]["syslog"]["severity"]["name"] for d in docs} == {"info"}
            assert {tuple(d["observer"]["ip"]) for d in docs} == {("192.0.2.9",)}
            continue
        for doc in docs:
            assert doc["host"]["name"] == mac("agent-host")
            assert doc["agent"]["type"] == mac("ucsiem")
            assert doc["log"]["syslog"]["hostname"] == mac("expc01")
            assert "name" not in doc["log"]["syslog"]["severity"] and "ip" not in doc["observer"]
