"""Plain-HTTP helpers for the Elasticsearch integration tests: requests, counts, searches, agent configs, logs.

The node is the real one of `scripts/services.sh start es` (http://127.0.0.1:19200 unless UCSIEM_ES_URL says
otherwise). Every test writes to its own namespace (`logs-uc.<dataset>-<namespace>`), so tests never see
each other's documents. This build of Elasticsearch has no data stream management API: `cleanup` rolls a
test's data streams over and deletes the old backing indices, which leaves one empty index per stream.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml

from tests.agenthelp import make_config

ES_URL = os.environ.get("UCSIEM_ES_URL", "http://127.0.0.1:19200")
_BACKING = re.compile(r"^\.ds-(?P<stream>.+)-\d{4}\.\d{2}\.\d{2}-\d{6}$")


class EsError(AssertionError):
    """Elasticsearch answered a test's own request with an error status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} -> {status}: {json.dumps(body)[:2000]}")
        self.status = status
        self.body = body


def request(method: str, path: str, body: Any = None, *, url: str = ES_URL, timeout: float = 60.0,
            ok: tuple[int, ...] = ()) -> Any:
    """One JSON request; returns the decoded answer; raises EsError on a status >= 300 not listed in `ok`."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"content-type": "application/json", "accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
        exc.close()
    answer = json.loads(raw) if raw else None
    if status >= 300 and status not in ok:
        raise EsError(method, path, status, answer)
    return answer


def read(method: str, path: str, body: Any = None, *, wait_secs: float = 30.0) -> Any:
    """A search-side request that waits out a shard still starting: a data stream's first backing index is
    created by the agent's first bulk request, and a count sent in the next instant meets its primary shard
    initialising (503 no_shard_available_action_exception). Any other error is raised at once."""
    deadline = time.monotonic() + wait_secs
    while True:
        try:
            return request(method, path, body)
        except EsError as exc:
            if exc.status != 503 or "no_shard_available" not in json.dumps(exc.body) or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def reachable() -> str | None:
    """None when the node answers, else why not (the tests fail with it: they never skip)."""
    try:
        health = request("GET", "/_cluster/health", timeout=5)
    except (OSError, EsError) as exc:
        return f"{exc}"
    if health.get("status") not in ("green", "yellow"):
        return f"cluster health is {health.get('status')}"
    return None


def new_namespace(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def pattern(namespace: str) -> str:
    """Every data stream of a namespace (not the daily indices of index mode: they end in -YYYY.MM.DD)."""
    return f"logs-uc.*-{namespace}"


def refresh(target: str) -> None:
    request("POST", f"/{target}/_refresh?ignore_unavailable=true&allow_no_indices=true")


def count(target: str, query: dict[str, Any] | None = None, *, do_refresh: bool = True) -> int:
    if do_refresh:
        refresh(target)
    body = {"query": query} if query is not None else None
    answer = read("POST", f"/{target}/_count?ignore_unavailable=true&allow_no_indices=true", body)
    return int(answer["count"])


def search_all(target: str, query: dict[str, Any] | None = None, size: int = 10_000) -> list[dict[str, Any]]:
    """Every hit (up to `size`), after a refresh; asserts none was left out."""
    refresh(target)
    body: dict[str, Any] = {"size": size, "track_total_hits": True, "query": query or {"match_all": {}},
                            "sort": [{"_doc": "asc"}]}
    answer = read("POST", f"/{target}/_search", body)
    hits: list[dict[str, Any]] = answer["hits"]["hits"]
    total = answer["hits"]["total"]["value"]
    assert len(hits) == total, f"search returned {len(hits)} of {total} hits: raise size"
    return hits


def top_term_count(target: str, field: str) -> tuple[int, int]:
    """(documents, highest count of one value of `field`): 1 means every value occurs exactly once."""
    refresh(target)
    body = {"size": 0, "track_total_hits": True,
            "aggs": {"top": {"terms": {"field": field, "size": 1, "order": {"_count": "desc"}}}}}
    answer = read("POST", f"/{target}/_search", body)
    buckets = answer["aggregations"]["top"]["buckets"]
    return int(answer["hits"]["total"]["value"]), int(buckets[0]["doc_count"]) if buckets else 0


def resolve(target: str) -> dict[str, Any]:
    """The indices and data streams a name or pattern stands for (`GET _resolve/index`)."""
    answer: dict[str, Any] = request("GET", f"/_resolve/index/{target}?expand_wildcards=all")
    return answer


def flat_mapping(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """`{"source": {"properties": {"ip": {"type": "ip"}}}}` -> `{"source.ip": "ip"}`."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        if "properties" in spec:
            out.update(flat_mapping(spec["properties"], f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = str(spec.get("type", "object"))
    return out


def index_mappings(target: str) -> dict[str, dict[str, str]]:
    """index name -> flattened field types, for every index behind `target`."""
    answer = request("GET", f"/{target}/_mapping")
    return {name: flat_mapping(body["mappings"].get("properties", {})) for name, body in answer.items()}


def put_index_template(name: str, body: dict[str, Any]) -> None:
    request("PUT", f"/_index_template/{name}", body)


def delete_index_template(name: str) -> None:
    request("DELETE", f"/_index_template/{name}", ok=(404,))


def cleanup(namespace: str) -> None:
    """Free what a test wrote: delete its daily indices, roll its data streams over and drop the old backing
    indices (a data stream itself cannot be deleted on this build)."""
    found = resolve(f"logs-uc.*-{namespace}*")
    plain = [i["name"] for i in found.get("indices", []) if not i["name"].startswith(".ds-")]
    if plain:
        request("DELETE", f"/{','.join(plain)}", ok=(404,))
    for stream in found.get("data_streams", []):
        name = stream["name"]
        if not (name.endswith(f"-{namespace}") and _BACKING.match(stream["backing_indices"][0])):
            continue
        if int(count(name, do_refresh=False)) == 0 and len(stream["backing_indices"]) == 1:
            continue
        request("POST", f"/{name}/_rollover")
        old = resolve(name)["data_streams"][0]["backing_indices"][:-1]
        if old:
            request("DELETE", f"/{','.join(old)}", ok=(404,))


# -- the agent ---------------------------------------------------------------------------------------


def es_config(tmp: Path, paths: list[str], *, hosts: list[str], namespace: str, parser: str = "linetest",
              file_output: bool = True, output_id: str = "es", es: dict[str, Any] | None = None,
              pipeline: dict[str, Any] | None = None) -> Path:
    """tests.agenthelp's config with an Elasticsearch output (and the file output when `file_output`)."""
    path = make_config(tmp, paths, parser=parser, pipeline=pipeline)
    config = yaml.safe_load(path.read_text())
    output = {"type": "elasticsearch", "id": output_id, "hosts": hosts, "namespace": namespace,
              "request_timeout_secs": 30, **(es or {})}
    config["outputs"] = [*(config["outputs"] if file_output else []), output]
    path.write_text(yaml.safe_dump(config))
    return path


def json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines of an agent's stderr or agent.log (log records, the --once summary)."""
    out: list[dict[str, Any]] = []
    for raw in text.splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                out.append(value)
    return out


def summary(stderr: str) -> dict[str, Any]:
    """The `run --once` summary: the last line of stderr."""
    lines = stderr.strip().splitlines()
    assert lines, "the agent printed nothing"
    value = json.loads(lines[-1])
    assert isinstance(value, dict) and "outputs" in value, f"not a summary: {lines[-1][:500]}"
    return value


def records(text: str, message: str) -> list[dict[str, Any]]:
    """Log records whose message starts with `message`."""
    return [r for r in json_lines(text) if str(r.get("message", "")).startswith(message)]


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
