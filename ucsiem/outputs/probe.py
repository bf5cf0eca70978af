"""`ucsiem test output`: connect to every configured output as the agent would and say, one line each, whether
it can take events, as `filebeat test output` does. Each output type's check is named by its registry entry
(`OutputSpec.check` in `ucsiem.outputs.registry`); the checks of the shipped outputs are here.

Each check builds its client the way the output does (the same TLS context, SASL or Elasticsearch
credentials, secret files), changes nothing at the destination, and answers in `timeout` seconds:

* file: the folder exists (or the nearest existing one can hold it) and a file can be created in it;
  an existing output file is writable.
* kafka: bootstrap (brokers), then metadata of the topics the agent would write (those its template
  gives for the configured parsers' datasets and, with correlation, for alerts), without creating any:
  present (partitions, leaders), not created yet, or not authorized.
* elasticsearch: cluster health and version, the ucsiem templates (missing is an error only with
  manage_templates: false), and the privileges the output needs (when the cluster has security on).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

from ucsiem.config import Config
from ucsiem.errors import OutputError
from ucsiem.outputs.registry import (
    CheckContext,
    ElasticsearchOutputConfig,
    FileOutputConfig,
    KafkaOutputConfig,
    OutputConfig,
    spec_for,
)
from ucsiem.parsing.registry import ParserRegistry
from ucsiem.sizes import format_size as _size

ALERT_DATASET = "ucsiem.alert"
ROUTABLE = {"event.dataset", "event.module", "agent.name"}  # topic template fields known from the config alone


@dataclass(frozen=True)
class Probe:
    output: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.output} ... {'OK' if self.ok else 'FAIL'}  {self.detail}"


async def probe_outputs(config: Config, parsers: ParserRegistry, timeout: float) -> list[Probe]:
    datasets = config_datasets(config, parsers)
    return [await probe_output(cfg, config, datasets, timeout) for cfg in config.outputs]


async def probe_output(cfg: OutputConfig, config: Config, datasets: list[str], timeout: float) -> Probe:
    """One output's line: its registry entry's check (`OutputSpec.check`), within `timeout` seconds."""
    name = cfg.output_name()
    try:
        async with asyncio.timeout(timeout):
            ok, detail = await spec_for(cfg).check(cfg, CheckContext(config, datasets))
    except TimeoutError:
        ok, detail = False, f"no answer within {timeout:g} s"
    except OutputError as exc:
        ok, detail = False, str(exc).removeprefix(f"{name}: ")
    return Probe(name, ok, detail)


def config_datasets(config: Config, parsers: ParserRegistry) -> list[str]:
    """The event.dataset values the agent can write with this config: its parsers', and alerts."""
    from ucsiem.inputs.unrouted import UNROUTED_SPEC
    from ucsiem.inputs.webhook_sender import SENDER_SPEC

    internal = {UNROUTED_SPEC.id: UNROUTED_SPEC.dataset, SENDER_SPEC.id: SENDER_SPEC.dataset}
    found = {internal.get(t.parser) or parsers.get(t.parser).spec.dataset for t in config.parse_targets()
             if t.parser in internal or t.parser in parsers}
    if config.correlation is not None:
        found.add(ALERT_DATASET)
    return sorted(found)


# -- file -------------------------------------------------------------------------------------------


def probe_file(cfg: FileOutputConfig) -> tuple[bool, str]:
    folder = cfg.path.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return False, f"{existing} is not a folder (output path: {cfg.path})"
    if cfg.path.is_dir():
        return False, f"{cfg.path} is a folder, not a file"
    try:
        fd, scratch = tempfile.mkstemp(dir=existing, prefix=".ucsiem-test-output-")
    except OSError as exc:
        return False, f"cannot create a file in {existing}: {exc.strerror}"
    os.close(fd)
    os.unlink(scratch)
    if cfg.path.exists():
        try:
            os.close(os.open(cfg.path, os.O_WRONLY | os.O_APPEND))
        except OSError as exc:
            return False, f"cannot write {cfg.path}: {exc.strerror}"
    free = _size(shutil.disk_usage(existing).free)
    if existing != folder:
        return True, f"{folder} does not exist yet; the output creates it in {existing} (writable, {free} free)"
    return True, f"{folder} writable, {free} free"


# -- kafka ------------------------------------------------------------------------------------------


async def probe_kafka(cfg: KafkaOutputConfig, config: Config, datasets: list[str]) -> tuple[bool, str]:
    from aiokafka.protocol.metadata import MetadataRequest

    from ucsiem.outputs.kafka import KafkaOutput
    from ucsiem.outputs.routing import Template

    output = KafkaOutput(cfg, {})
    await output.start()  # OutputError: cannot connect, refused credentials, untrusted certificate...
    try:
        client = output.client
        assert client is not None
        brokers = len(client.cluster.brokers())
        where = f"{brokers} broker(s) at {', '.join(cfg.bootstrap_servers)}"
        fields = set(Template(cfg.topic).fields)
        if not fields <= ROUTABLE:
            return True, f"{where}; topics depend on {', '.join(sorted(fields - ROUTABLE))}: not checked"
        topics = sorted({output.topic_for({"event": {"dataset": ds, "module": ds.split(".")[0]},
                                           "agent": {"name": config.agent.name}}) for ds in datasets})
        if not topics:
            return True, where
        node = client.get_random_node()
        answer = await client.send(node, MetadataRequest(topics, allow_auto_topic_creation=False))
    finally:
        await output.close()
    ready, missing, denied, leaderless = [], [], [], []
    for topic in answer.topics:
        error, name, partitions = topic[0], topic[1], topic[-1]
        if error == 3:  # UNKNOWN_TOPIC_OR_PARTITION
            missing.append(name)
        elif error == 29:  # TOPIC_AUTHORIZATION_FAILED
            denied.append(name)
        elif error != 0 or any(p[2] < 0 for p in partitions):
            leaderless.append(f"{name} (error {error})" if error else f"{name} (a partition has no leader)")
        else:
            ready.append(f"{name} ({len(partitions)} partition{'s' if len(partitions) != 1 else ''})")
    parts = [where]
    if ready:
        parts.append(f"topics ready: {', '.join(ready)}")
    if missing:
        parts.append(f"not created yet (the broker creates them at the first event if auto.create.topics.enable, "
                     f"else create them): {', '.join(missing)}")
    if denied:
        parts.append(f"NOT AUTHORIZED (fix the ACLs: Describe and Write): {', '.join(denied)}")
    if leaderless:
        parts.append(f"UNAVAILABLE: {', '.join(leaderless)}")
    return not denied and not leaderless, "; ".join(parts)


# -- elasticsearch ----------------------------------------------------------------------------------


async def probe_elasticsearch(cfg: ElasticsearchOutputConfig) -> tuple[bool, str]:
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    from ucsiem.outputs.elasticsearch import display_url, make_client, request_error
    from ucsiem.outputs.es_setup import ALERTS_TEMPLATE_NAME, DAILY_TEMPLATE_NAME, INDEX_TEMPLATE_NAME
    from ucsiem.schema.generate import COMPONENT_NAME

    name = cfg.output_name()
    try:
        client = make_client(cfg)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise OutputError(f"bad TLS or credential settings: {exc}", retriable=False) from None
    try:
        health = await client.cluster.health()
        try:
            version = f"Elasticsearch {(await client.info()).body['version']['number']}, "
        except (ApiError, KeyError, TypeError):  # a node with a trimmed module set may not serve GET /
            version = ""
        index_templates = {t: bool(await client.indices.exists_index_template(name=t))
                           for t in (INDEX_TEMPLATE_NAME, DAILY_TEMPLATE_NAME, ALERTS_TEMPLATE_NAME)}
        component = bool(await client.cluster.exists_component_template(name=COMPONENT_NAME))
        privileges = await _privileges(client, cfg)
    except (ApiError, TransportError) as exc:
        raise request_error(name, exc) from None
    finally:
        await client.close()
    status = health.body.get("status", "?")
    parts = [f"{', '.join(display_url(h) for h in cfg.hosts)}: {version}"
             f"cluster {health.body.get('cluster_name', '?')} {status}"]
    ok = status in ("green", "yellow")
    if not ok:
        parts.append("the cluster is red: some primary shards are unassigned")
    wanted = {COMPONENT_NAME: component, ALERTS_TEMPLATE_NAME: index_templates[ALERTS_TEMPLATE_NAME],
              f"{INDEX_TEMPLATE_NAME} or {DAILY_TEMPLATE_NAME}": index_templates[INDEX_TEMPLATE_NAME]
              or index_templates[DAILY_TEMPLATE_NAME]}
    absent = [t for t, there in wanted.items() if not there]
    if not absent:
        parts.append("templates present")
    elif cfg.manage_templates:
        parts.append(f"templates missing ({', '.join(absent)}): the output installs them at start")
    else:
        ok = False
        parts.append(f"templates MISSING ({', '.join(absent)}) and manage_templates is false: run "
                     "`ucsiem setup elasticsearch`")
    if privileges is None:
        parts.append("privileges not checked (security is off on this cluster)")
    elif privileges:
        ok = False
        parts.append(f"MISSING PRIVILEGES: {'; '.join(privileges)}")
    else:
        parts.append("privileges ok")
    return ok, "; ".join(parts)


async def _privileges(client: Any, cfg: ElasticsearchOutputConfig) -> list[str] | None:
    """The privileges the output needs and lacks (empty: all there); None when the cluster has no security."""
    from elasticsearch import ApiError

    cluster = ["monitor", *(["manage_index_templates"] if cfg.manage_templates else [])]
    events = ["create_doc", "auto_configure", *(["create_index"] if cfg.index_mode == "index" else [])]
    index = [{"names": ["logs-uc.*"], "privileges": events},
             {"names": [cfg.alerts_target], "privileges": ["index", "create_index"]}]
    try:
        answer = await client.security.has_privileges(cluster=cluster, index=index)
    except ApiError as exc:
        if "security" in str(exc.body).lower() and exc.meta.status in (400, 403, 500):
            if exc.meta.status == 403:
                return ["cannot ask (has_privileges refused)"]
            return None
        raise
    body = answer.body
    lacking = [f"cluster {p}" for p, has in body.get("cluster", {}).items() if not has]
    for target, privileges in body.get("index", {}).items():
        lacking += [f"{p} on {target}" for p, has in privileges.items() if not has]
    return lacking


