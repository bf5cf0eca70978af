"""Install the ucsiem templates (generated from the schema, as in mappings/elasticsearch/) into a cluster.

The component template holds the mappings; the index template applies it to `logs-uc.*-*` and,
where the cluster supports them, makes those names data streams. A cluster that refuses the
`data_stream` part gets the same template without it, and the output writes daily indices.
The alerts template applies the same mappings to the plain indices `ucsiem-alerts-*`, where
correlation alerts are updated in place (whatever the index mode).
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, Literal

import orjson
from elasticsearch import ApiError, AsyncElasticsearch

from ucsiem.schema.generate import COMPONENT_NAME, render

if TYPE_CHECKING:
    from ucsiem.outputs.registry import ElasticsearchOutputConfig

log = logging.getLogger("ucsiem.output.elasticsearch")
IndexMode = Literal["data_stream", "index"]
INDEX_TEMPLATE_NAME = "ucsiem"
# Daily indices get their own template on dated names only: turning the shared `ucsiem` template into
# a plain one would be refused while any logs-uc data stream exists, and would change other agents' streams.
DAILY_TEMPLATE_NAME = "ucsiem-daily"
DAILY_PATTERNS = ["logs-uc.*-*-1*.*.*", "logs-uc.*-*-2*.*.*", "logs-uc.*-*-undated"]
ALERTS_TEMPLATE_NAME = "ucsiem-alerts"


def templates() -> tuple[dict[str, Any], dict[str, Any]]:
    files = render()
    component = orjson.loads(files[f"elasticsearch/component-template-{COMPONENT_NAME}.json"])
    index = orjson.loads(files["elasticsearch/index-template-ucsiem.json"])
    return component, index


def alerts_template() -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(render()["elasticsearch/index-template-ucsiem-alerts.json"])
    return body


async def install_templates(client: AsyncElasticsearch, mode: Literal["auto", "data_stream", "index"],
                            replicas: int | None = None) -> IndexMode:
    """Put both templates; returns the index mode in force."""
    component, index = templates()
    if replicas is not None:
        settings = index["template"].setdefault("settings", {}).setdefault("index", {})
        settings["number_of_replicas"] = replicas
    await client.cluster.put_component_template(name=COMPONENT_NAME, template=component["template"],
                                                meta=component["_meta"])
    alerts = alerts_template()
    if replicas is not None:
        alerts["template"].setdefault("settings", {}).setdefault("index", {})["number_of_replicas"] = replicas
    await client.indices.put_index_template(name=ALERTS_TEMPLATE_NAME, **alerts)
    if mode != "index":
        try:
            await client.indices.put_index_template(name=INDEX_TEMPLATE_NAME, **index)
            return "data_stream"
        except ApiError as exc:
            if mode == "data_stream" or exc.meta.status != 400 or "data_stream" not in str(exc.body):
                raise
            log.warning("This cluster does not take data streams; writing daily indices instead.",
                        extra={"error": str(exc.message)})
    plain = copy.deepcopy(index)
    plain.pop("data_stream", None)
    plain["index_patterns"] = DAILY_PATTERNS
    plain["priority"] = index["priority"] + 1
    await client.indices.put_index_template(name=DAILY_TEMPLATE_NAME, **plain)
    return "index"


async def installed_mode(client: AsyncElasticsearch) -> IndexMode:
    """What the installed ucsiem template says (templates managed by someone else)."""
    for name, mode in ((INDEX_TEMPLATE_NAME, "data_stream"), (DAILY_TEMPLATE_NAME, "index")):
        try:
            found = await client.indices.get_index_template(name=name)
        except ApiError as exc:
            if exc.meta.status == 404:
                continue
            raise
        body = found.body.get("index_templates", [{}])[0].get("index_template", {})
        if mode == "index" or "data_stream" in body:
            return mode  # type: ignore[return-value]
    log.warning("No ucsiem index template in the cluster: run `ucsiem setup elasticsearch` "
                "(or set manage_templates: true), or the events get dynamic mappings.")
    return "data_stream"


async def setup_output(cfg: ElasticsearchOutputConfig, source: str, replicas: int | None = None) -> str:
    """`ucsiem setup elasticsearch` for one output: install the templates; returns the line to print.
    ConfigError (`source`: the config file) for bad TLS or credential settings, OutputError when a request fails."""
    from ucsiem.errors import ConfigError
    from ucsiem.outputs.elasticsearch import display_url, make_client, request_error

    name = cfg.output_name()
    try:
        client = make_client(cfg)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ConfigError(source, [f"{name}: bad TLS or credential settings: {exc}"]) from None
    try:
        mode = await install_templates(client, cfg.index_mode, replicas)
    except Exception as exc:
        raise request_error(name, exc) from None
    finally:
        await client.close()
    target = "data streams" if mode == "data_stream" else "daily indices"
    return (f"{name}: installed component template ucsiem-schema, index template ucsiem "
            f"(logs-uc.*-*, {target}) and index template ucsiem-alerts (ucsiem-alerts-*, alerts) on "
            f"{', '.join(display_url(h) for h in cfg.hosts)}")
