from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agenthelp import PLUGINS
from ucsiem.errors import PluginError
from ucsiem.parsing.registry import load_plugin_folder, load_registry


def test_builtins_and_folder_plugins_load() -> None:
    registry = load_registry([PLUGINS])
    assert "linetest" in registry and "multitest" in registry
    assert "cisco_expressway" in registry and "audiocodes_sbc" in registry


def test_duplicate_ids_stop_the_agent(tmp_path: Path) -> None:
    shutil.copytree(PLUGINS / "linetest", tmp_path / "a" / "linetest")
    shutil.copytree(PLUGINS / "linetest", tmp_path / "b" / "linetest")
    with pytest.raises(PluginError, match="duplicate parser id 'linetest'"):
        load_registry([tmp_path / "a", tmp_path / "b"])


def test_broken_plugins_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "nospec").mkdir()
    (tmp_path / "nospec" / "__init__.py").write_text("X = 1\n")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "__init__.py").write_text("import does_not_exist\n")
    shutil.copytree(PLUGINS / "linetest", tmp_path / "renamed")
    with pytest.raises(PluginError) as info:
        load_registry([tmp_path, tmp_path / "missing"])
    text = str(info.value)
    assert "must export PARSER" in text
    assert "ModuleNotFoundError" in text
    assert "must equal the folder name 'renamed'" in text
    assert "does not exist" in text


def test_a_builtin_is_imported_when_it_is_first_asked_for_not_at_load() -> None:
    """An agent that runs one parser imports that one (start-up: ~0.14 s for all twenty)."""
    probe = ("import sys; from ucsiem.parsing.registry import load_registry; r = load_registry(); "
             "assert 'kamailio' in r and 'audiocodes_sbc' in r; r.get('cisco_expressway'); "
             "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('ucsiem_parsers.')}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['cisco_expressway']", done.stdout + done.stderr


def test_a_folder_plugin_named_like_a_builtin_is_a_duplicate_before_the_builtin_is_imported(
        tmp_path: Path) -> None:
    shutil.copytree(PLUGINS / "linetest", tmp_path / "kamailio")
    source = tmp_path / "kamailio" / "__init__.py"
    source.write_text(source.read_text().replace('"linetest"', '"kamailio"'))
    with pytest.raises(PluginError, match="duplicate parser id 'kamailio': built-in parser kamailio and "):
        load_registry([tmp_path])


def test_unknown_parser_lists_known_ones() -> None:
    with pytest.raises(PluginError, match=r"unknown parser id 'nope'; known parsers: .*cisco_expressway"):
        load_registry().get("nope")


def test_single_folder_loader() -> None:
    assert load_plugin_folder(PLUGINS / "linetest").spec.id == "linetest"


def test_folder_plugins_import_their_own_modules(tmp_path: Path) -> None:
    # a plugin split into modules (`from . import x`, `from .x import y`) loads from any folder
    folder = tmp_path / "split_plugin"
    shutil.copytree(PLUGINS / "linetest", folder)
    (folder / "helpers.py").write_text("NAME = 'split_plugin'\n")
    init = (folder / "__init__.py").read_text().replace('id="linetest"', "id=helpers.NAME")
    (folder / "__init__.py").write_text("from . import helpers\n" + init)
    assert load_plugin_folder(folder).spec.id == "split_plugin"
    assert load_registry([tmp_path], entry_point_plugins=False).get("split_plugin").spec.id == "split_plugin"


def test_entry_point_plugins_are_discovered(tmp_path: Path) -> None:
    """A third-party distribution declaring `[ucsiem.parsers]` in its metadata is picked up."""
    import subprocess
    import sys

    (tmp_path / "acme_ucsiem.py").write_text((PLUGINS / "linetest" / "__init__.py").read_text()
                                             .replace('id="linetest"', 'id="acme_lines"'))
    dist = tmp_path / "acme_ucsiem-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-ucsiem\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ucsiem.parsers]\nacme_lines = acme_ucsiem:PARSER\n")
    code = ("from ucsiem.parsing.registry import load_registry; p = load_registry().get('acme_lines'); "
            "print(p.spec.dataset, p.origin)")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "test.lines entry point acme_lines (acme_ucsiem:PARSER)"
