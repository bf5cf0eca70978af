"""The configuration reference in README.md must be exactly what the config models generate (`ucsiem docs
generate`), as mappings/ is what the schema generates; and every config key has a description to put there."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ucsiem.cli import main
from ucsiem.config import AgentConfig, Config
from ucsiem.config_docs import check, generate, render
from ucsiem.correlate.scaleout_config import ScaleoutConfig
from ucsiem.outputs.registry import OUTPUTS, KafkaOutputConfig

README = Path(__file__).resolve().parents[2] / "README.md"

# Keys without a description in modules this change could not touch (ucsiem/inputs, ucsiem/enrich); the README
# shows an empty meaning for them. This list may only shrink: describe a key there and remove it here.
UNDESCRIBED: set[str] = set()


def _undescribed(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    """Keys of `model` and of the models it holds (lists, unions, optional) without a Field description."""
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, info in model.model_fields.items():
        if not info.description:
            found.append(f"{model.__module__}.{model.__name__}.{name}")
        for inner in _models(info.annotation):
            found += _undescribed(inner, seen)
    return found


def _models(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for arg in typing.get_args(tp) for m in _models(arg)]


def test_the_readme_configuration_reference_matches_the_models() -> None:
    problems = check(README)
    assert not problems, f"{problems}: run `ucsiem docs generate` and commit README.md"


def test_every_config_key_has_a_description() -> None:
    missing = set(_undescribed(Config, set()) + _undescribed(ScaleoutConfig, set()))
    assert missing - UNDESCRIBED == set(), "give these keys a Field(description=...)"
    assert UNDESCRIBED - missing == set(), "described now: remove them from UNDESCRIBED"
    assert all(key.startswith(("ucsiem.inputs.", "ucsiem.enrich.")) for key in UNDESCRIBED)


def test_check_detects_a_stale_or_missing_table(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(README.read_text())
    assert check(readme) == []
    text = readme.read_text()
    edited = text.replace("| `fsync` | `true` |", "| `fsync` | `false` |", 1)
    assert edited != text
    readme.write_text(edited)
    assert check(readme) == ["README.md: the outputs configuration reference is stale: run `ucsiem docs generate`"]
    assert main(["docs", "check", "--readme", str(readme)]) == 1
    assert main(["docs", "generate", "--readme", str(readme)]) == 0
    assert readme.read_text() == text  # generate puts back exactly what the models say; the prose is untouched
    readme.write_text(re.sub(r"<!-- config-reference:begin spool -->.*?<!-- config-reference:end spool -->\n", "",
                             text, flags=re.S))
    assert check(readme) == ["README.md: no block <!-- config-reference:begin spool --> ... "
                             "<!-- config-reference:end spool --> (add the markers where the spool reference goes)"]


def test_a_changed_description_makes_the_readme_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AgentConfig.model_fields["stats_interval_secs"], "description", "Changed in the model.")
    assert "| `stats_interval_secs` | `60` | Changed in the model. |" in render()["agent"]
    assert check(README) == ["README.md: the agent configuration reference is stale: run `ucsiem docs generate`"]


def test_every_registered_output_has_its_table_and_renamed_keys_are_not_listed() -> None:
    outputs = render()["outputs"]
    for spec in OUTPUTS:
        assert f"#### `type: {spec.type}`" in outputs
    assert "| `linger_secs` | `0.005` |" in outputs and "| `linger_ms` |" not in outputs  # no row for an alias
    assert set(KafkaOutputConfig.renamed_keys) == {"linger_ms", "request_timeout_ms"}


def test_generate_reports_a_readme_without_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# nothing here\n")
    assert len(generate(readme)) == len(render())
    assert readme.read_text() == "# nothing here\n"
