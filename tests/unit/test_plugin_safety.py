"""Plugin folders others can write to are refused before any code in them runs; so are plugins holding
a regex a crafted line can make backtrack for hours.

The tests run as root: a plugin imported from a world-writable folder would run as root, which is the
case the check exists for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agenthelp import PLUGINS
from ucsiem.errors import PluginError
from ucsiem.parsing.registry import load_plugin_folder, load_registry


def plugin(parent: Path, name: str = "linetest", extra: str = "") -> Path:
    """A copy of the linetest plugin that leaves a mark when imported (so a test sees whether it ran)."""
    folder = parent / name
    shutil.copytree(PLUGINS / "linetest", folder)
    init = folder / "__init__.py"
    marker = parent / f"{name}.imported"
    text = init.read_text().replace('id="linetest"', f'id="{name}"')
    init.write_text(f"open({str(marker)!r}, 'w').close()\n{text}\n{extra}")
    return folder


def marker(folder: Path) -> Path:
    return folder.parent / f"{folder.name}.imported"


def test_a_world_writable_plugin_folder_is_refused_before_anything_runs(tmp_path: Path) -> None:
    parsers = tmp_path / "parsers"
    parsers.mkdir()
    one = plugin(parsers)
    parsers.chmod(0o777)
    with pytest.raises(PluginError) as info:
        load_registry([parsers], entry_point_plugins=False)
    assert (f"{parsers}: refused: {parsers} is writable by other users (mode 0777): they could make the agent "
            f"run their code as root; chmod go-w {parsers}") in str(info.value)
    assert not marker(one).exists()  # refused before import, not after

    parsers.chmod(0o755)
    assert "linetest" in load_registry([parsers], entry_point_plugins=False)
    assert marker(one).exists()


def test_a_group_writable_file_inside_a_plugin_is_refused(tmp_path: Path) -> None:
    folder = plugin(tmp_path)
    (folder / "helpers.py").write_text("X = 1\n")
    (folder / "helpers.py").chmod(0o664)
    with pytest.raises(PluginError, match=r"helpers.py is writable by its group \(mode 0664\).*chmod go-w"):
        load_registry([tmp_path], entry_point_plugins=False)
    with pytest.raises(PluginError, match=r"helpers.py is writable by its group"):
        load_plugin_folder(folder)  # `ucsiem parsers test FOLDER` and `parse --parser-dir` judge the same way
    assert not marker(folder).exists()


def test_a_writable_folder_above_is_refused_unless_sticky(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    parsers = shared / "parsers"
    parsers.mkdir()
    plugin(parsers)
    shared.chmod(0o777)  # anyone could rename `parsers` away and put their own in its place
    with pytest.raises(PluginError, match=rf"{shared} is writable by other users \(mode 0777\)"):
        load_registry([parsers], entry_point_plugins=False)
    shared.chmod(0o1777)  # like /tmp: others cannot replace what is not theirs
    assert "linetest" in load_registry([parsers], entry_point_plugins=False)


def test_a_plugin_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "only root can give a file to another user: run the suite as root, as CI does"
    folder = plugin(tmp_path)
    os.chown(folder / "__init__.py", 4242, -1)
    with pytest.raises(PluginError, match=r"__init__.py belongs to uid 4242, who could change the code the agent "
                                          r"runs as root; chown root"):
        load_registry([tmp_path], entry_point_plugins=False)
    assert not marker(folder).exists()


BAD_REGEX = 'import re\nWORDS = re.compile(r"^(\\w+\\s?)*$")\n'


def test_a_plugin_with_a_catastrophic_regex_is_refused_naming_the_pattern(tmp_path: Path) -> None:
    plugin(tmp_path, "badregex", extra=BAD_REGEX)
    split = plugin(tmp_path, "badhelper")
    (split / "rules.py").write_text("import re\nRULES = {'x': re.compile(r'(a+)+b')}\n")
    init = split / "__init__.py"
    init.write_text("from . import rules\n" + init.read_text())
    plugin(tmp_path, "badframing", extra='PARSER = __import__("dataclasses").replace(PARSER, framing=Framing('
                                          'kind="multiline", first_line_pattern=r"^(\\d+\\s?)+:"))\n')
    plugin(tmp_path, "fine")
    with pytest.raises(PluginError) as info:
        load_registry([tmp_path], entry_point_plugins=False)
    text = str(info.value)
    assert (f"{tmp_path / 'badregex'}: regex ucsiem_user_parsers.badregex.WORDS = '^(\\\\w+\\\\s?)*$' can backtrack "
            "catastrophically (a line such as ") in text
    assert "rewrite it without nested or overlapping quantifiers" in text
    assert "regex ucsiem_user_parsers.badhelper.rules.RULES = '(a+)+b'" in text  # a plugin's own modules too
    assert "regex framing.first_line_pattern = '^(\\\\d+\\\\s?)+:'" in text
    assert "fine" not in text.replace(str(tmp_path), "")  # the safe plugin is not blamed


def test_an_entry_point_plugin_with_a_catastrophic_regex_is_refused(tmp_path: Path) -> None:
    source = (PLUGINS / "linetest" / "__init__.py").read_text().replace('id="linetest"', 'id="acme_bad"')
    (tmp_path / "acme_bad.py").write_text(source + BAD_REGEX)
    dist = tmp_path / "acme_bad-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-bad\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[ucsiem.parsers]\nacme_bad = acme_bad:PARSER\n")
    code = "from ucsiem.parsing.registry import load_registry; load_registry()"
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode != 0
    assert "entry point acme_bad (acme_bad:PARSER): regex acme_bad.WORDS" in proc.stderr
