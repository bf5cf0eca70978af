"""The webhook input's configuration: every mistake is refused with the key that holds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ucsiem.config import Config, parse_config
from ucsiem.errors import ConfigError
from ucsiem.inputs.webhook import WebhookInput
from ucsiem.inputs.webhook_sender import SENDER_PARSER


def secret(tmp: Path, name: str = "zoom.secret", mode: int = 0o600, text: str = "s3cret\n") -> Path:
    path = tmp / name
    path.write_text(text)
    path.chmod(mode)
    return path


def hook(tmp: Path, **changes: Any) -> dict[str, Any]:
    cert, key = tmp / "server.pem", secret(tmp, "server.key", text="key")
    base: dict[str, Any] = {
        "type": "webhook", "id": "hooks", "address": "0.0.0.0", "port": 8443,
        "tls": {"cert_file": str(cert), "key_file": str(key)},
        "paths": [{"path": "/zoom", "parser": "zoom", "provider": "zoom", "secret_file": str(secret(tmp))},
                  {"path": "/hooks/webex", "parser": "cisco_webex", "provider": "webex",
                   "secret_file": str(secret(tmp, "webex.secret"))}],
    }
    base.update(changes)
    return base


def load(tmp: Path, webhook: dict[str, Any]) -> Config:
    return parse_config({"inputs": [webhook], "outputs": [{"type": "stdout"}]}, "test.yml", base_dir=tmp)


def problems(tmp: Path, webhook: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(tmp, webhook)
    return err.value.problems


def test_a_good_config_gives_a_stream_per_path_and_one_for_refusals(tmp_path: Path) -> None:
    config = load(tmp_path, hook(tmp_path))
    targets = {t.id: t for t in config.parse_targets()}
    assert list(targets) == ["hooks.zoom", "hooks.hooks_webex", "hooks._rejected"]
    assert targets["hooks.zoom"].parser == "zoom" and targets["hooks.zoom"].where == "inputs[0].paths[0].parser"
    assert targets["hooks._rejected"].parser == SENDER_PARSER
    webhook = config.inputs[0]
    assert webhook.type == "webhook" and webhook.max_body_bytes == 1_048_576
    assert webhook.paths[0].window_secs == 300.0
    assert webhook.security_warnings() == []


def test_tls_is_required_unless_plain_http_is_asked_for_and_then_warned(tmp_path: Path) -> None:
    assert problems(tmp_path, hook(tmp_path, tls=None)) == [
        "inputs[0]: Value error, tls: required (cert_file, key_file): deliveries carry meeting and user data; set "
        "allow_insecure_http: true only behind a reverse proxy that terminates TLS"]
    plain = load(tmp_path, hook(tmp_path, tls=None, allow_insecure_http=True)).inputs[0]
    assert plain.type == "webhook"
    assert plain.security_warnings() == [
        "allow_insecure_http: plain HTTP on 0.0.0.0:8443; only a TLS-terminating reverse proxy should reach it"]
    [both] = problems(tmp_path, hook(tmp_path, allow_insecure_http=True))
    assert both.startswith("inputs[0]: Value error, allow_insecure_http: true with tls")


@pytest.mark.parametrize(("change", "expected"), [
    ({"address": "hooks.example.com"}, "inputs[0].address: Value error, 'hooks.example.com' is not an IP address"),
    ({"port": 0}, "inputs[0].port: Input should be greater than or equal to 1"),
    ({"max_body_bytes": 10}, "inputs[0].max_body_bytes: Input should be greater than or equal to 1024"),
    ({"paths": []}, "inputs[0].paths: List should have at least 1 item"),
    ({"timezone": "Mars/Olympus"}, "inputs[0].timezone: Value error, unknown time zone 'Mars/Olympus'"),
    ({"listen": "0.0.0.0"}, "inputs[0].listen: unknown key"),
])
def test_input_errors_name_the_key(tmp_path: Path, change: dict[str, Any], expected: str) -> None:
    [problem] = problems(tmp_path, hook(tmp_path, **change))
    assert problem.startswith(expected), problem


@pytest.mark.parametrize(("path", "expected"), [
    ({"path": "zoom", "provider": "none"}, "inputs[0].paths[0].path: String should match pattern"),
    ({"path": "/zoom", "provider": "teams"}, "inputs[0].paths[0].provider: Input should be 'zoom', 'webex' or 'none'"),
    ({"path": "/zoom", "provider": "zoom"}, "inputs[0].paths[0]: Value error, secret_file: provider zoom needs"),
    ({"path": "/zoom", "provider": "none", "secret_file": "x"},
     "inputs[0].paths[0]: Value error, secret_file: provider none checks no signature"),
    ({"path": "/w", "provider": "webex", "secret_file": "x", "replay_window_secs": 60},
     "inputs[0].paths[0]: Value error, replay_window_secs: only Zoom signs a request time"),
    ({"path": "/zoom", "provider": "none", "replay_window_secs": 0},
     "inputs[0].paths[0].replay_window_secs: Input should be greater than 0"),
    ({"path": "/_x", "provider": "none"}, "inputs[0]: Value error, paths[0].name: '_x' is not a stream name"),
    ({"path": "/zoom", "provider": "none", "timezone": "CEST"}, "inputs[0].paths[0].timezone: Value error"),
    ({"path": "/zoom", "provider": "none", "parser_option": {}}, "inputs[0].paths[0].parser_option: unknown key"),
])
def test_path_errors_name_the_key(tmp_path: Path, path: dict[str, Any], expected: str) -> None:
    [problem] = problems(tmp_path, hook(tmp_path, paths=[{"parser": "zoom", **path}]))
    assert problem.startswith(expected), problem


def test_paths_and_names_are_unique(tmp_path: Path) -> None:
    one = {"path": "/a/b", "parser": "zoom", "provider": "none"}
    assert problems(tmp_path, hook(tmp_path, paths=[one, one])) == [
        "inputs[0]: Value error, paths[1].path: '/a/b' is configured twice"]
    clash = {"path": "/a_b", "parser": "zoom", "provider": "none"}
    assert problems(tmp_path, hook(tmp_path, paths=[one, clash])) == [
        "inputs[0]: Value error, paths[1].name: 'a_b' is used twice; give each path its own name"]
    named = load(tmp_path, hook(tmp_path, paths=[one, {**clash, "name": "other"}]))
    assert [t.id for t in named.parse_targets()] == ["hooks.a_b", "hooks.other", "hooks._rejected"]


def test_unknown_type_lists_webhook(tmp_path: Path) -> None:
    assert problems(tmp_path, {"type": "http", "id": "x"}) == [
        "inputs[0]: unknown type 'http'; use one of: file, syslog, webhook"]


def test_secret_files_are_resolved_and_must_be_private(tmp_path: Path) -> None:
    config = load(tmp_path, hook(tmp_path, paths=[
        {"path": "/zoom", "parser": "zoom", "provider": "zoom", "secret_file": "zoom.secret"}]))
    webhook = config.inputs[0]
    assert webhook.type == "webhook" and webhook.paths[0].secret_file == tmp_path / "zoom.secret"
    secret(tmp_path, "open.secret", mode=0o644)
    [problem] = problems(tmp_path, hook(tmp_path, paths=[
        {"path": "/zoom", "parser": "zoom", "provider": "zoom", "secret_file": "open.secret"}]))
    assert problem.startswith("inputs[0].paths[0].secret_file: ") and "open.secret" in problem


def test_an_empty_or_missing_secret_stops_the_input_with_its_key(tmp_path: Path) -> None:
    secret(tmp_path, "empty.secret", text="\n")
    config = load(tmp_path, hook(tmp_path, allow_insecure_http=True, tls=None, paths=[
        {"path": "/zoom", "parser": "zoom", "provider": "zoom", "secret_file": "empty.secret"}]))
    webhook = config.inputs[0]
    assert webhook.type == "webhook"
    with pytest.raises(ConfigError, match=r"paths\[0\]\.secret_file: .*empty.secret is empty"):
        WebhookInput(webhook)
    webhook.paths[0].secret_file = tmp_path / "missing.secret"
    with pytest.raises(ConfigError, match=r"paths\[0\]\.secret_file: "):
        WebhookInput(webhook)
