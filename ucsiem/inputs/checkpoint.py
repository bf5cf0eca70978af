"""The checkpoints: how far each file generation has been read and delivered.

One JSON document, `<data_dir>/checkpoints.json`, replaced atomically (temp file, fsync, rename, fsync of
the folder) so a crash or power loss leaves the old or the new checkpoints, never a torn or empty file
(beats#3537). Entries are keyed per input by a generation key; the file identity (device, inode, head
fingerprint) is stored in the entry, so a rotated, copied or recreated file can be recognised.

The file used to be `registry.json` (a word now kept for the parser and output registries): when only that
file exists it is read, and the first save writes `checkpoints.json` and then removes it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from ucsiem.errors import CheckpointError

log = logging.getLogger("ucsiem.checkpoints")

CHECKPOINT_VERSION = 1
CHECKPOINTS_NAME = "checkpoints.json"
LEGACY_NAME = "registry.json"  # its former name, before the parser and output registries had the word


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    dev: int
    ino: int
    fingerprint: str  # hex hash of the first `fp_len` bytes
    fp_len: int
    head_id: str  # hash of the first line: names the generation in event ids
    offset: int  # every record before this byte is delivered
    # hash of the (up to 64) bytes before `offset`: a file with the same head is only taken for this
    # generation if it also holds these bytes there (files that share a long header, like CDR files, differ)
    anchor: str = ""
    headers: dict[str, str] = {}
    updated: float = 0.0


class CheckpointFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = CHECKPOINT_VERSION
    inputs: dict[str, dict[str, FileEntry]] = {}


class CheckpointStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / CHECKPOINTS_NAME
        self.legacy_path = data_dir / LEGACY_NAME
        self.data_dir = data_dir

    def load(self) -> CheckpointFile:
        """The saved checkpoints (none saved: empty); from the file's former name when only that exists."""
        path = self.path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            path = self.legacy_path
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                return CheckpointFile()
            except OSError as exc:
                raise CheckpointError(f"cannot read the checkpoints in {path}: {exc.strerror}") from None
            log.info("Reading the checkpoints from their former file registry.json; they are saved to "
                     "checkpoints.json from now on.", extra={"path": str(path)})
        except OSError as exc:
            raise CheckpointError(f"cannot read the checkpoints in {path}: {exc.strerror}") from None
        try:
            checkpoints = CheckpointFile.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise CheckpointError(
                f"the checkpoint file {path} is damaged ({str(exc).splitlines()[0]}); move it aside to re-read "
                "all files from their start position, or restore it from a backup"
            ) from None
        if checkpoints.version != CHECKPOINT_VERSION:
            raise CheckpointError(f"{path}: checkpoint file version {checkpoints.version} is not supported")
        return checkpoints

    def save(self, checkpoints: CheckpointFile) -> None:
        write_durably(self.path, orjson.dumps(checkpoints.model_dump()), "the checkpoints")
        if self.legacy_path.exists():
            # the new file is durable: the old one may go (a crash before this leaves both; the new one is read)
            try:
                self.legacy_path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("Cannot remove the former checkpoint file registry.json (it is ignored while "
                            "checkpoints.json exists).", extra={"path": str(self.legacy_path), "error": exc.strerror})


def write_durably(path: Path, payload: bytes, what: str) -> None:
    """Replace `path` with `payload` so that a crash leaves the old or the new content, never a mix (temporary
    file, fsync, rename, fsync of the folder). CheckpointError when the folder cannot be written."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise CheckpointError(
            f"cannot write {what} in {folder}: {exc.strerror}; stopping so no position is lost"
        ) from None


def now() -> float:
    return time.time()
