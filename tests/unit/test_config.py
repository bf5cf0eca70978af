"""Config errors name the key path, list every problem, and are never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ucsiem.config import load_config
from ucsiem.errors import ConfigError

GOOD = """
inputs:
  - id: exp
    paths: [logs/*.log]
    parser: cisco_expressway
outputs:
  - type: file
    path: out/events.ndjson
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def test_good_config_resolves_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.inputs[0].paths == [str(tmp_path / "logs/*.log")]
    assert config.outputs[0].path == tmp_path / "out/events.ndjson"  # type: ignore[union-attr]


def test_every_problem_is_listed_with_its_key_path(tmp_path: Path) -> None:
    extra = "parser: cisco_expressway\n    strat_at: end\n    timezone: Mars/Base"
    bad = GOOD.replace("parser: cisco_expressway", extra)
    bad = bad.replace("type: file", "type: kafak")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, bad))
    problems = "\n".join(info.value.problems)
    assert "inputs[0].strat_at: unknown key" in problems
    assert "inputs[0].timezone" in problems and "Mars/Base" in problems
    assert "outputs[0]: unknown type 'kafak'" in problems


def test_missing_required_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "inputs:\n  - id: x\n"))
    problems = info.value.problems
    assert "inputs[0].paths: required key is missing" in problems
    assert "inputs[0].parser: required key is missing" in problems
    assert "outputs: required key is missing" in problems


def test_malformed_yaml_gives_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "inputs: [\n  - id: x\n"))
    assert "line" in str(info.value) and "not valid YAML" in str(info.value)


def test_unreadable_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "missing.yml")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(write(tmp_path, "- just a list\n"))


def test_duplicate_input_ids(tmp_path: Path) -> None:
    text = GOOD.replace("inputs:\n", "inputs:\n  - {id: exp, paths: [a], parser: x}\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_config(write(tmp_path, text))
