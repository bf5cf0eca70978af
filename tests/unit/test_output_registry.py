"""The output registry (ucsiem/outputs/registry.py) is the one place outputs are known, and renamed duration keys
stay accepted as deprecated aliases that name their new key."""

from __future__ import annotations

import ast
import asyncio
import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ucsiem.config import Config, parse_config
from ucsiem.correlate.scaleout_config import parse_scaleout_config
from ucsiem.errors import ConfigError
from ucsiem.outputs.base import Output
from ucsiem.outputs.registry import (
    OUTPUTS,
    BuildContext,
    CheckContext,
    KafkaOutputConfig,
    OutputConfig,
    OutputSettings,
    build_output,
    output_types,
    spec_for,
)

ROOT = Path(__file__).resolve().parents[2]
LOOKUPS = ("getattr", "hasattr")
DURATION = re.compile(r"timeout|interval|linger|wait|expiry|lateness|_(ms|secs|seconds|mins|minutes|hours|days)$")
MINIMAL: dict[str, dict[str, Any]] = {  # one valid config item per registered output
    "file": {"type": "file", "path": "/tmp/ucsiem-registry-test/out.ndjson"},
    "stdout": {"type": "stdout"},
    "kafka": {"type": "kafka", "id": "k", "bootstrap_servers": ["127.0.0.1:9092"]},
    "elasticsearch": {"type": "elasticsearch", "id": "es", "hosts": ["http://127.0.0.1:9200"]},
}


def config(*outputs: dict[str, Any]) -> Config:
    return parse_config({"inputs": [{"id": "a", "paths": ["/tmp/x.log"], "parser": "asterisk"}],
                         "outputs": list(outputs)}, "test")


def test_the_config_union_holds_exactly_the_registered_models() -> None:
    union = typing.get_args(typing.get_args(OutputConfig)[0])
    assert set(union) == {spec.config for spec in OUTPUTS}
    for spec in OUTPUTS:
        assert issubclass(spec.config, OutputSettings)
        assert typing.get_args(spec.config.model_fields["type"].annotation) == (spec.type,), spec.type
        assert spec_for(spec.type) is spec
    assert sorted(MINIMAL) == sorted(output_types()), "add a minimal config of the new output to MINIMAL"


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_each_output_is_built_by_its_entry_with_every_capability_of_the_protocol(kind: str) -> None:
    cfg = config(MINIMAL[kind]).outputs[0]
    assert type(cfg) is spec_for(kind).config
    output: Output = build_output(cfg, BuildContext(parser_versions={}))
    assert output.name == cfg.output_name()
    for capability in ("max_document_bytes", "stall_secs", "unreachable", "probe", "sync"):
        assert hasattr(type(output), capability) or hasattr(output, capability), (kind, capability)
    assert output.unreachable is False  # nothing failed yet: the sender must not probe


def test_the_kafka_output_declares_its_limits_from_its_config() -> None:
    cfg = config({**MINIMAL["kafka"], "max_message_bytes": 2048, "request_timeout_secs": 7}).outputs[0]
    output = build_output(cfg, BuildContext(parser_versions={}))
    assert output.max_document_bytes == 2048 and output.stall_secs == 7.0
    stdout = build_output(config(MINIMAL["stdout"]).outputs[0], BuildContext(parser_versions={}))
    assert stdout.max_document_bytes is None and stdout.stall_secs is None
    assert asyncio.run(stdout.probe()) is False


def test_an_unknown_output_type_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        config({"type": "splunk"})
    assert f"use one of: {', '.join(output_types())}" in str(caught.value)


def test_test_output_runs_the_check_of_each_entry(tmp_path: Path) -> None:
    from ucsiem.outputs.probe import probe_output

    cfg = config({"type": "file", "path": str(tmp_path / "out.ndjson")}, {"type": "stdout"})
    lines = [asyncio.run(probe_output(out, cfg, [], 5.0)) for out in cfg.outputs]
    assert [(p.output, p.ok) for p in lines] == [(f"file:{tmp_path / 'out.ndjson'}", True), ("stdout", True)]
    assert lines[1].detail == "standard output"
    assert asyncio.run(spec_for("stdout").check(cfg.outputs[1], CheckContext(cfg, []))) == (True, "standard output")


def test_only_elasticsearch_has_a_setup_and_the_cli_offers_exactly_those() -> None:
    from ucsiem.cli import _parser

    assert [s.type for s in OUTPUTS if s.setup is not None] == ["elasticsearch"]
    with pytest.raises(SystemExit):
        _parser().parse_args(["setup", "kafka"])
    assert _parser().parse_args(["setup", "elasticsearch"]).target == "elasticsearch"


def test_no_optional_capability_of_an_output_is_looked_up_by_name() -> None:
    """getattr/hasattr on an output (or its config) outside its own class: the capability belongs on the protocol."""
    found = []
    for path in (ROOT / "ucsiem").rglob("*.py"):
        if path.name in ("aiokafka_hooks.py", "registry.py") or "enrich" in path.parts or "inputs" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in LOOKUPS:
                target = ast.unparse(node.args[0]) if node.args else ""
                if "output" in target or target == "out" or path.name == "delivery.py":  # the sender: none at all
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


# -- durations: seconds, and the renamed millisecond keys --------------------------------------------------


def _models(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _models(arg)]


def _durations(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    names = []
    for name, info in model.model_fields.items():
        if DURATION.search(name):
            names.append(f"{model.__name__}.{name}")
        for inner in _models(info.annotation):
            names += _durations(inner, seen)
    return names


def test_every_duration_key_of_the_agent_and_the_correlation_service_is_in_seconds() -> None:
    from ucsiem.correlate.scaleout_config import ScaleoutConfig

    names = _durations(Config, set()) + _durations(ScaleoutConfig, set())
    assert "KafkaOutputConfig.linger_secs" in names  # the walk reaches the outputs
    assert "SyslogListenerConfig.idle_timeout_secs" in names  # and the inputs
    # The one exception: Elasticsearch's daily indices are chosen by calendar day, so that window is in days.
    assert [n for n in names if not n.endswith("_secs")] == ["ElasticsearchOutputConfig.index_date_window_days"]


def test_linger_ms_and_request_timeout_ms_still_work_and_name_their_new_keys(caplog: pytest.LogCaptureFixture) -> None:
    cfg = config({**MINIMAL["kafka"], "linger_ms": 20, "request_timeout_ms": 5000})
    kafka = cfg.outputs[0]
    assert isinstance(kafka, KafkaOutputConfig)
    assert kafka.linger_secs == 0.02 and kafka.request_timeout_secs == 5.0
    assert cfg.deprecations == [
        "outputs (type kafka): linger_ms is deprecated and will be removed: use linger_secs: 0.02 (seconds) instead",
        "outputs (type kafka): request_timeout_ms is deprecated and will be removed: use request_timeout_secs: 5 "
        "(seconds) instead"]
    assert config(MINIMAL["kafka"]).deprecations == []
    from ucsiem.outputs.kafka import KafkaOutput

    options = KafkaOutput(kafka, {})._producer_options()
    assert options["linger_ms"] == 20 and options["request_timeout_ms"] == 5000
    KafkaOutputConfig.model_validate({**MINIMAL["kafka"], "linger_ms": 1})  # outside a config file: logged
    assert "linger_ms is deprecated" in caplog.text and "linger_secs: 0.001" in caplog.text


def test_an_old_key_and_its_new_name_together_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"outputs\[0\]: .*linger_ms \(deprecated\) and linger_secs are the same"):
        config({**MINIMAL["kafka"], "linger_ms": 5, "linger_secs": 0.01})


def test_the_correlation_service_keeps_its_millisecond_keys_as_deprecated_aliases(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.yml").write_text((ROOT / "rules" / "uc" / next(iter(sorted(p.name for p in (ROOT / "rules" / "uc")
                                                                         .glob("*.yml"))))).read_text())
    data = {"kafka": {"bootstrap_servers": ["127.0.0.1:9092"], "request_timeout_ms": 15000},
            "correlation": {"rules": [str(rules)]}, "session_timeout_ms": 6000, "transaction_timeout_ms": 20000}
    cfg = parse_scaleout_config(data, "test")
    assert (cfg.kafka.request_timeout_secs, cfg.session_timeout_secs, cfg.transaction_timeout_secs) == (15, 6, 20)
    assert sorted(m.split(" is deprecated")[0] for m in cfg.deprecations) == [
        "(top level): session_timeout_ms", "(top level): transaction_timeout_ms", "kafka: request_timeout_ms"]
    assert all("_secs: " in m for m in cfg.deprecations)


def test_check_prints_the_deprecation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ucsiem.cli import main

    path = tmp_path / "config.yml"
    path.write_text(f"agent: {{data_dir: {tmp_path / 'state'}}}\n"
                    f"inputs: [{{id: a, paths: ['{tmp_path}/x.log'], parser: asterisk}}]\n"
                    "outputs: [{type: kafka, bootstrap_servers: ['127.0.0.1:9092'], linger_ms: 10}]\n")
    assert main(["check", "-c", str(path)]) == 0
    err = capsys.readouterr().err
    assert "ucsiem: WARNING: outputs (type kafka): linger_ms is deprecated and will be removed: use linger_secs: " \
           "0.01 (seconds) instead" in err
