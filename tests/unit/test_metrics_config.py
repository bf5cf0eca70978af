"""agent.metrics: off unless set, loopback only unless allow_non_loopback, and where `ucsiem status` looks."""

from __future__ import annotations

from typing import Any

import pytest

from ucsiem.config import Config, parse_config
from ucsiem.errors import ConfigError, UcsiemError
from ucsiem.status import metrics_url

BASE: dict[str, Any] = {"inputs": [{"id": "a", "paths": ["/var/log/a.log"], "parser": "p"}],
                        "outputs": [{"type": "stdout"}]}


def config(metrics: Any) -> Config:
    return parse_config({**BASE, "agent": {"metrics": metrics}}, "config.yml")


def test_off_unless_set() -> None:
    assert parse_config(BASE, "config.yml").agent.metrics is None
    on = config({})
    assert on.agent.metrics is not None
    assert (on.agent.metrics.address, on.agent.metrics.port, on.agent.metrics.allow_non_loopback) == (
        "127.0.0.1", 9464, False)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.53", "::1", "localhost"])
def test_loopback_addresses_are_accepted(address: str) -> None:
    cfg = config({"address": address, "port": 9100}).agent.metrics
    assert cfg is not None and cfg.address == address


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.0.2.10", "metrics.example.com", ""])
def test_other_addresses_are_refused_naming_the_field(address: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config({"address": address})
    (problem,) = caught.value.problems
    assert problem.startswith(f"agent.metrics.address: Value error, {address!r} is not a loopback address; ")
    assert "agent.metrics.allow_non_loopback: true" in problem


def test_allow_non_loopback_accepts_them_knowingly() -> None:
    cfg = config({"address": "0.0.0.0", "allow_non_loopback": True}).agent.metrics
    assert cfg is not None and cfg.address == "0.0.0.0"


@pytest.mark.parametrize(("metrics", "where"), [({"port": 0}, "agent.metrics.port"),
                                                ({"port": 70000}, "agent.metrics.port"),
                                                ({"adress": "127.0.0.1"}, "agent.metrics.adress")])
def test_bad_values_name_their_key(metrics: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config(metrics)
    assert caught.value.problems[0].startswith(f"{where}: ")


@pytest.mark.parametrize(("metrics", "url"), [
    ({}, "http://127.0.0.1:9464"),
    ({"address": "::1", "port": 9100}, "http://[::1]:9100"),
    ({"address": "0.0.0.0", "allow_non_loopback": True}, "http://127.0.0.1:9464"),
    ({"address": "::", "allow_non_loopback": True}, "http://[::1]:9464"),
])
def test_status_asks_the_configured_endpoint(metrics: dict[str, Any], url: str) -> None:
    assert metrics_url(config(metrics)) == url


def test_status_without_metrics_says_what_to_set() -> None:
    with pytest.raises(UcsiemError, match=r"^agent\.metrics is not set in the configuration"):
        metrics_url(parse_config(BASE, "config.yml"))
