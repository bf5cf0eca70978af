"""Warnings for file input paths that would silently read nothing."""

from __future__ import annotations

import os
from pathlib import Path

from ucsiem.config import parse_config
from ucsiem.inputs.path_check import path_warnings, pattern_problems


def test_every_kind_of_path_that_reads_nothing(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_text("x\n")
    (tmp_path / "dirs" / "sub").mkdir(parents=True)
    assert pattern_problems(str(tmp_path / "logs" / "*.log")) == []
    assert pattern_problems(str(tmp_path / "logs" / "a.log")) == []
    assert pattern_problems(str(tmp_path / "logs")) == [
        f"is a directory; name the files in it, e.g. {tmp_path / 'logs' / '*.log'}"]
    assert pattern_problems(str(tmp_path / "logs" / "*.txt")) == [
        "matches no file yet (it is read as soon as one appears)"]
    assert pattern_problems(str(tmp_path / "nowhere" / "*.log")) == [
        f"matches no file yet (it is read as soon as one appears); its folder {tmp_path / 'nowhere'} does not exist"]
    assert pattern_problems(str(tmp_path / "dirs" / "*")) == [
        f"matches only directories; add a file pattern, e.g. {tmp_path / 'dirs' / '*' / '*.log'}"]
    assert pattern_problems(str(tmp_path / "logs" / "b.log")) == [
        "does not exist yet (it is read as soon as it appears)"]
    assert pattern_problems(str(tmp_path / "gone" / "b.log")) == [
        f"does not exist, nor does its folder {tmp_path / 'gone'}"]


def test_unreadable_files_are_named_when_not_root(tmp_path: Path) -> None:
    secret = tmp_path / "secret.log"
    secret.write_text("x\n")
    secret.chmod(0)
    expected = [] if os.geteuid() == 0 else ["is not readable by this user (check its mode and group)"]
    assert pattern_problems(str(secret)) == expected  # root reads everything: nothing to say


def test_config_warnings_name_the_input_and_pattern(tmp_path: Path) -> None:
    config = parse_config({"inputs": [
        {"id": "a", "paths": [str(tmp_path / "*.log"), str(tmp_path)], "parser": "kamailio"},
        {"type": "syslog", "id": "net", "listeners": [{"protocol": "udp", "address": "127.0.0.1", "port": 5514}]},
    ], "outputs": [{"type": "stdout"}]}, "test")
    assert path_warnings(config) == [
        f"inputs[0].paths[0] ({tmp_path / '*.log'}): matches no file yet (it is read as soon as one appears)",
        f"inputs[0].paths[1] ({tmp_path}): is a directory; name the files in it, e.g. {tmp_path / '*.log'}",
    ]
