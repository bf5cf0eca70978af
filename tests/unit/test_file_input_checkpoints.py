"""The checkpoint store: `checkpoints.json`, and the file it used to be (`registry.json`) read once."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ucsiem.errors import CheckpointError
from ucsiem.inputs.checkpoint import CheckpointFile, CheckpointStore, FileEntry

ENTRY = {"path": "/var/log/a.log", "dev": 1, "ino": 2, "fingerprint": "ab", "fp_len": 120, "head_id": "cd",
         "offset": 120, "anchor": "ef", "headers": {}, "updated": 1.5}


def saved(inputs: dict[str, dict[str, dict[str, object]]]) -> bytes:
    return orjson.dumps({"version": 1, "inputs": inputs})


def test_a_saved_file_is_read_back(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(CheckpointFile(inputs={"test": {"k": FileEntry.model_validate(ENTRY)}}))
    assert (tmp_path / "checkpoints.json").exists() and not (tmp_path / "registry.json").exists()
    assert store.load().inputs["test"]["k"].offset == 120


def test_nothing_saved_is_empty(tmp_path: Path) -> None:
    assert CheckpointStore(tmp_path).load() == CheckpointFile()


def test_the_former_registry_file_is_read_then_replaced_at_the_first_save(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_bytes(saved({"test": {"k": ENTRY}}))
    store = CheckpointStore(tmp_path)
    loaded = store.load()
    assert loaded.inputs["test"]["k"] == FileEntry.model_validate(ENTRY)  # the positions survive the upgrade
    assert (tmp_path / "registry.json").exists()  # kept until the new file is durably written
    loaded.inputs["test"]["k"].offset = 240
    store.save(loaded)
    assert not (tmp_path / "registry.json").exists()
    assert orjson.loads((tmp_path / "checkpoints.json").read_bytes())["inputs"]["test"]["k"]["offset"] == 240
    assert CheckpointStore(tmp_path).load().inputs["test"]["k"].offset == 240


def test_the_new_file_wins_over_a_former_one_left_by_a_crash(tmp_path: Path) -> None:
    """A crash between writing checkpoints.json and removing registry.json leaves both: the new one counts."""
    (tmp_path / "registry.json").write_bytes(saved({"test": {"k": ENTRY}}))
    (tmp_path / "checkpoints.json").write_bytes(saved({"test": {"k": {**ENTRY, "offset": 240}}}))
    store = CheckpointStore(tmp_path)
    loaded = store.load()
    assert loaded.inputs["test"]["k"].offset == 240
    store.save(loaded)
    assert not (tmp_path / "registry.json").exists()


@pytest.mark.parametrize("name", ["checkpoints.json", "registry.json"])
def test_a_damaged_file_is_a_clear_error_naming_it(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text('{"version": 1, "inputs": {"test": {"x": ')
    with pytest.raises(CheckpointError, match=rf"the checkpoint file {tmp_path / name} is damaged"):
        CheckpointStore(tmp_path).load()


def test_an_unknown_version_is_refused(tmp_path: Path) -> None:
    (tmp_path / "checkpoints.json").write_bytes(orjson.dumps({"version": 2, "inputs": {}}))
    with pytest.raises(CheckpointError, match="checkpoint file version 2 is not supported"):
        CheckpointStore(tmp_path).load()
