"""What the agent writes in its data folder is readable by its own user only, whatever umask it was given.

A 0644 spool in a 0755 folder let any local user read the events (`strings spool.db` showed a URL with
its password). The agent is started here with umask 022, the usual login default.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.agenthelp import events, make_config, start, stop, wait_for, write_lines
from ucsiem.hardening import protect_data_dir
from ucsiem.spool.store import SpoolStore


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_spool_files_are_private_whatever_the_umask(tmp_path: Path, loose_umask: None) -> None:
    db = tmp_path / "new" / "spool.db"
    store = SpoolStore(db, None)
    store.append(0, b'{"url":"https://u:secret@example.com/"}\n', 1)
    wal, shm = db.with_name("spool.db-wal"), db.with_name("spool.db-shm")
    assert (mode(db.parent), mode(db), mode(wal), mode(shm)) == (0o700, 0o600, 0o600, 0o600)
    store.close()

    db.chmod(0o644)  # left by an older version
    store = SpoolStore(db, None)
    assert mode(db) == 0o600
    store.close()


def test_protect_data_dir_sets_a_private_umask_and_tightens_what_is_there(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "state"
    data.mkdir(mode=0o755)
    old = data / "dead-letters.ndjson"
    old.write_text("{}\n")
    old.chmod(0o644)
    try:
        protect_data_dir(data)
        (data / "new.json").write_text("{}")
        assert (mode(data), mode(old), mode(data / "new.json")) == (0o700, 0o600, 0o600)
    finally:
        os.umask(0o022)  # protect_data_dir changed this process's umask; the fixture restores the original


def test_after_a_run_the_data_dir_and_its_files_are_private(tmp_path: Path, loose_umask: None) -> None:
    log = tmp_path / "calls.log"
    write_lines(log, 0, 100)
    config = make_config(tmp_path, [str(log)])
    settings = yaml.safe_load(config.read_text())
    settings["spool"] = {"enabled": True}
    config.write_text(yaml.safe_dump(settings))
    data = tmp_path / "state"
    data.mkdir(mode=0o755)  # as an older install or StateDirectoryMode=0755 leaves it
    letters = data / "dead-letters.ndjson"
    letters.write_text('{"event":{"kind":"pipeline_error"}}\n')  # refused events kept by an older run
    letters.chmod(0o644)

    proc = start(config)
    wait_for(lambda: len(events(tmp_path)) == 100, timeout=60, what="100 events delivered")
    wait_for(lambda: (data / "checkpoints.json").exists(), timeout=30, what="checkpoints written")
    running = {name: mode(data / name) for name in ("spool.db", "spool.db-wal", "spool.db-shm")}
    stop(proc)

    assert mode(data) == 0o700
    assert running == {"spool.db": 0o600, "spool.db-wal": 0o600, "spool.db-shm": 0o600}
    assert (mode(data / "checkpoints.json"), mode(letters)) == (0o600, 0o600)
    assert not [p.name for p in data.iterdir() if mode(p) & 0o077]
