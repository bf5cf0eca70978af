"""Output settings that would leak credentials or events, and names chosen by log content (no server needed).

Config refusals name the key path and say what to do; `ucsiem check` prints a warning for every output that is
cleartext or unverified; a secret written into a URL never reaches the terminal.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.agenthelp import make_config
from tests.integration.tlsproxy import make_certs
from ucsiem.config import ElasticsearchOutputConfig, KafkaOutputConfig, TlsConfig, parse_config
from ucsiem.errors import ConfigError
from ucsiem.outputs.elasticsearch import ElasticsearchOutput, _safe_describe, display_url
from ucsiem.outputs.kafka import KafkaOutput
from ucsiem.outputs.tls import tls_context

PASSWORD = "pw-3f9a-never-printed"
INPUTS = [{"id": "a", "paths": ["x.log"], "parser": "linetest"}]


def problems(*outputs: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config({"inputs": INPUTS, "outputs": list(outputs)}, "test")
    return "\n".join(info.value.problems)


def output(cfg: dict[str, Any]) -> Any:
    return parse_config({"inputs": INPUTS, "outputs": [cfg]}, "test").outputs[0]


def ucsiem(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ucsiem", *args], capture_output=True, text=True, timeout=120,
                          check=False)


def config_with(tmp: Path, *outputs: dict[str, Any]) -> Path:
    path = make_config(tmp, [str(tmp / "*.log")])
    settings = yaml.safe_load(path.read_text())
    settings["outputs"] = list(outputs)
    path.write_text(yaml.safe_dump(settings))
    return path


# -- credentials in URLs ----------------------------------------------------------------------------------


def test_credentials_in_an_elasticsearch_url_are_refused_without_echoing_them() -> None:
    found = problems({"type": "elasticsearch", "hosts": ["https://n1:9200", f"https://elastic:{PASSWORD}@n2:9200"]})
    assert found.startswith("outputs[0].hosts[1]: Value error, credentials in a URL end up in logs")
    assert "username with password_file" in found
    assert PASSWORD not in found and "elastic:" not in found


@pytest.mark.parametrize("command", [["check"], ["setup", "elasticsearch"], ["run", "--once"]])
def test_no_command_prints_a_password_written_into_a_url(tmp_path: Path, command: list[str]) -> None:
    config = config_with(tmp_path, {"type": "elasticsearch", "hosts": [f"https://elastic:{PASSWORD}@127.0.0.1:9"]})
    result = ucsiem(*command, "--config", str(config))
    assert result.returncode == 2, result.stderr
    assert "outputs[0].hosts[0]" in result.stderr and "password_file" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


def test_kafka_bootstrap_servers_are_host_port_only() -> None:
    found = problems({"type": "kafka", "bootstrap_servers": ["k1:9092", f"u:{PASSWORD}@k2:9092", "k3"]})
    assert found == ("outputs[0].bootstrap_servers[1]: Value error, expected host:port "
                     "(e.g. kafka1.example.com:9093); credentials go in sasl:")
    assert output({"type": "kafka", "bootstrap_servers": ["[::1]:9092", "kafka.example.com"]}).security_warnings()


def test_display_url_takes_userinfo_out() -> None:
    assert display_url(f"https://elastic:{PASSWORD}@n1:9200/p") == "https://n1:9200/p"
    assert display_url("https://n1:9200") == "https://n1:9200"


# -- cleartext and unverified outputs --------------------------------------------------------------------


KAFKA_SASL = {"type": "kafka", "bootstrap_servers": ["k:9092"],
              "sasl": {"mechanism": "PLAIN", "username": "u", "password": PASSWORD}}
ES_BASIC = {"type": "elasticsearch", "hosts": ["http://e:9200"], "username": "u", "password": PASSWORD}


@pytest.mark.parametrize(("cfg", "expected"), [
    (KAFKA_SASL, "outputs[0]: Value error, sasl without tls sends the password (with PLAIN) and every event in "
                 "cleartext: add tls: {ca_file: ...}, or set allow_insecure: true on this output"),
    ({**KAFKA_SASL, "tls": {"check_hostname": False}},
     "outputs[0]: Value error, sasl with tls.check_hostname: false gives the password to any server"),
    (ES_BASIC, "outputs[0]: Value error, credentials over http:// go in cleartext with every request: use https://"),
    ({"type": "elasticsearch", "hosts": ["http://e:9200"], "api_key_file": "/k"},
     "outputs[0]: Value error, credentials over http:// go in cleartext"),
    ({**ES_BASIC, "hosts": ["https://e:9200"], "tls": {"check_hostname": False}},
     "outputs[0]: Value error, credentials with tls.check_hostname: false go to any server"),
    ({"type": "elasticsearch", "hosts": ["http://e:9200"], "tls": {"ca_file": "/ca.pem"}},
     "outputs[0]: Value error, tls is set but hosts are http://: use https:// URLs"),
    ({"type": "elasticsearch", "hosts": ["https://e1:9200", "http://e2:9200"]},
     "outputs[0]: Value error, hosts mixes http:// and https:// URLs"),
])
def test_credentials_over_cleartext_or_unchecked_names_are_refused(cfg: dict[str, Any], expected: str) -> None:
    found = problems(cfg)
    assert found.startswith(expected), found
    assert PASSWORD not in found


def test_allow_insecure_accepts_the_risk_and_check_still_warns(tmp_path: Path) -> None:
    config = config_with(tmp_path, {**KAFKA_SASL, "allow_insecure": True}, {**ES_BASIC, "allow_insecure": True},
                         {"type": "kafka", "id": "k2", "bootstrap_servers": ["k:9093"],
                          "tls": {"check_hostname": False}},
                         {"type": "elasticsearch", "id": "e2", "hosts": ["https://e:9200"]})
    result = ucsiem("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    output_warnings = [row for row in result.stderr.splitlines() if "WARNING: inputs[" not in row]
    assert output_warnings == [
        "ucsiem: WARNING: outputs[0] (kafka:kafka): no tls: events and the SASL password go to Kafka in cleartext "
        "(SASL_PLAINTEXT) (allow_insecure: true)",
        "ucsiem: WARNING: outputs[1] (elasticsearch:elasticsearch): http:// hosts: events and credentials go to "
        "Elasticsearch in cleartext (allow_insecure: true)",
        "ucsiem: WARNING: outputs[2] (kafka:k2): tls.check_hostname: false: any certificate the CA signed is "
        "accepted for any broker name",
    ]
    assert PASSWORD not in result.stdout + result.stderr


def test_check_warns_about_plaintext_outputs_without_credentials(tmp_path: Path) -> None:
    config = config_with(tmp_path, {"type": "kafka", "bootstrap_servers": ["k:9092"]},
                         {"type": "elasticsearch", "hosts": ["http://e:9200"]},
                         {"type": "file", "path": str(tmp_path / "out.ndjson")})
    result = ucsiem("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    output_warnings = [row for row in result.stderr.splitlines() if "WARNING: inputs[" not in row]
    assert output_warnings == [
        "ucsiem: WARNING: outputs[0] (kafka:kafka): no tls: events go to Kafka in cleartext (PLAINTEXT)",
        "ucsiem: WARNING: outputs[1] (elasticsearch:elasticsearch): http:// hosts: events go to Elasticsearch in "
        "cleartext",
    ]


def test_private_outputs_are_not_warned_about(tmp_path: Path) -> None:
    config = config_with(tmp_path, {**KAFKA_SASL, "tls": {}}, {**ES_BASIC, "hosts": ["https://e:9200"]})
    result = ucsiem("check", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "WARNING: outputs" not in result.stderr


# -- the Elasticsearch TLS context -----------------------------------------------------------------------


def test_the_tls_context_trusts_only_the_configured_ca_and_checks_names(tmp_path: Path) -> None:
    certs = make_certs(tmp_path)
    context = tls_context(TlsConfig(ca_file=certs.ca))
    assert context.cert_store_stats()["x509_ca"] == 1, "tls.ca_file must replace the system store, not add to it"
    subjects = [str(c["subject"]) for c in context.get_ca_certs()]
    assert len(subjects) == 1 and "ucsiem test CA" in subjects[0]
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    unchecked = tls_context(TlsConfig(ca_file=certs.ca, check_hostname=False))
    assert (unchecked.verify_mode, unchecked.check_hostname) == (ssl.CERT_REQUIRED, False)


# -- names chosen by log content -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["observer.hostname", "user.name", "source.ip", "message", "labels.topic"])
def test_topic_templates_take_only_allow_listed_fields(field: str) -> None:
    found = problems({"type": "kafka", "bootstrap_servers": ["k:9092"], "topic": f"uc.{{{field}}}"})
    assert found.startswith(f"outputs[0].topic: Value error, {{{field}}} may come from log content and cannot "
                            "choose a topic; use only {agent.name}, {event.category}, {event.dataset}")


@pytest.mark.parametrize(("topic", "expected"), [
    ("__consumer_offsets", "topics starting with '__' are Kafka's internal topics"),
    ("__{event.dataset}", "topics starting with '__' are Kafka's internal topics"),
    ("uc events/{event.kind}", "outside {field} holes a topic template has only letters, digits"),
    ("x" * 250, "a topic name has at most 249 characters"),
    ("..", "'.' and '..' are not topic names"),
])
def test_illegal_topic_templates_are_refused(topic: str, expected: str) -> None:
    assert problems({"type": "kafka", "bootstrap_servers": ["k:9092"], "topic": topic}).startswith(
        f"outputs[0].topic: Value error, {expected}")


def test_a_rendered_topic_kafka_would_refuse_goes_to_the_fallback_topic() -> None:
    cfg = output({"type": "kafka", "bootstrap_servers": ["k:9092"], "topic": "{event.dataset}",
                  "fallback_topic": "uc.unrouted"})
    assert isinstance(cfg, KafkaOutputConfig)
    out = KafkaOutput(cfg, {})
    assert out.topic_for({"event": {"dataset": "cisco.cube"}}) == "cisco.cube"
    assert out.topic_for({"event": {"dataset": "__consumer_offsets"}}) == "uc.unrouted"
    assert out.topic_for({"event": {"dataset": "a b/c"}}) == "a_b_c"
    assert out.topic_for({"event": {"dataset": "."}}) == "uc.unrouted"
    assert out.topic_for({}) == "unknown"
    assert problems({"type": "kafka", "bootstrap_servers": ["k:9092"], "fallback_topic": "__x"}).startswith(
        "outputs[0].fallback_topic: Value error, topics starting with '__'")


def index_output(**extra: Any) -> ElasticsearchOutput:
    cfg = output({"type": "elasticsearch", "hosts": ["http://e:9200"], "namespace": "ns", "index_mode": "index",
                  **extra})
    assert isinstance(cfg, ElasticsearchOutputConfig)
    return ElasticsearchOutput(cfg)


@pytest.mark.parametrize(("stamp", "day"), [
    ("2026-02-27T23:30:00-02:00", "2026.02.28"),  # inside the window: the event's own UTC day
    ("2026-01-30T12:00:00Z", "2026.01.30"),  # exactly 30 days: still inside
    ("2026-01-30T11:59:59Z", "2026.03.01"),  # just over 30 days before ingest
    ("0001-01-01T00:00:00Z", "2026.03.01"),
    ("9999-12-31T23:59:59Z", "2026.03.01"),
    ("0001-01-01T00:30:00+02:00", "2026.03.01"),  # before year 1 in UTC: not a date at all
    ("yesterday", "2026.03.01"),
    (None, "2026.03.01"),
])
def test_index_dates_are_clamped_to_a_window_around_ingest_time(stamp: str | None, day: str) -> None:
    out = index_output(index_date_window_days=30)
    event = {"@timestamp": stamp, "event": {"dataset": "cisco.cube", "ingested": "2026-03-01T12:00:00.000Z"}}
    assert out.index_for(event) == f"logs-uc.cisco.cube-ns-{day}"


def test_the_default_window_is_a_year_either_side() -> None:
    out = index_output()
    ingested = {"dataset": "d.s", "ingested": "2026-03-01T12:00:00Z"}
    assert out.index_for({"@timestamp": "2025-03-02T00:00:00Z", "event": ingested}) == "logs-uc.d.s-ns-2025.03.02"
    assert out.index_for({"@timestamp": "2025-02-28T00:00:00Z", "event": ingested}) == "logs-uc.d.s-ns-2026.03.01"
    assert out.index_for({"@timestamp": "2027-02-28T00:00:00Z", "event": ingested}) == "logs-uc.d.s-ns-2027.02.28"
    assert out.index_for({"@timestamp": "2027-03-02T12:00:01Z", "event": ingested}) == "logs-uc.d.s-ns-2026.03.01"


# -- rejection reasons ------------------------------------------------------------------------------------


def test_rejection_reasons_keep_the_error_type_and_field_not_the_value() -> None:
    """Item errors as Elasticsearch 8.19 words them (from a bulk answer of the test node)."""
    parsing = {"type": "document_parsing_exception",
               "reason": "[1:532] failed to parse field [source.ip] of type [ip] in document with id 'abc'. "
                         f"Preview of field's value: '{PASSWORD}'",
               "caused_by": {"type": "illegal_argument_exception",
                             "reason": f"'{PASSWORD}' is not an IP string literal."}}
    assert _safe_describe(parsing) == ("document_parsing_exception on field [source.ip] of type [ip] "
                                       "(caused by illegal_argument_exception)")
    strict = {"type": "strict_dynamic_mapping_exception",
              "reason": "[1:40] mapping set to strict, dynamic introduction of [uc.x] within [_doc] is not allowed"}
    assert _safe_describe(strict) == "strict_dynamic_mapping_exception on field [uc.x]"
    assert _safe_describe({"type": "illegal_argument_exception", "reason": f"bad {PASSWORD}"}) == \
        "illegal_argument_exception"
    assert _safe_describe({"type": f"x {PASSWORD}", "reason": "y"}) == "error"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_connection_errors_do_not_quote_aiohttp_ssl_argument(scheme: str) -> None:
    """aiohttp says 'ssl:default' (plain http://) or 'ssl:<ssl.SSLContext object at 0x...>': taken out where
    transport errors become OutputErrors, the rest of its message kept."""
    import asyncio
    import socket

    from ucsiem.outputs.elasticsearch import make_client, request_error

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]

    async def attempt() -> str:
        client = make_client(ElasticsearchOutputConfig(hosts=[f"{scheme}://127.0.0.1:{closed}"]))
        try:
            await client.info()
        except Exception as exc:  # what the outputs translate
            return str(request_error("es", exc))
        finally:
            await client.close()
        raise AssertionError("a closed port answered")

    message = asyncio.run(attempt())
    assert message == (f"es: cannot reach Elasticsearch: Cannot connect to host 127.0.0.1:{closed} "
                       f"[Connect call failed ('127.0.0.1', {closed})]")
