"""The registry: how far each file generation has been read and delivered.

One JSON document, replaced atomically (temp file, fsync, rename, fsync of the folder) so a crash
or power loss leaves the old or the new registry, never a torn or empty one (beats#3537).
Entries are keyed per input by a generation key; the file identity (device, inode, head
fingerprint) is stored in the entry, so a rotated, copied or recreated file can be recognised.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

from ucsiem.errors import CheckpointError

REGISTRY_VERSION = 1


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


class RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = REGISTRY_VERSION
    inputs: dict[str, dict[str, FileEntry]] = {}


class CheckpointStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "registry.json"
        self.data_dir = data_dir

    def load(self) -> RegistryFile:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return RegistryFile()
        except OSError as exc:
            raise CheckpointError(f"cannot read the registry {self.path}: {exc.strerror}") from None
        try:
            registry = RegistryFile.model_validate(orjson.loads(raw))
        except (orjson.JSONDecodeError, ValidationError) as exc:
            raise CheckpointError(
                f"the registry {self.path} is damaged ({str(exc).splitlines()[0]}); move it aside to re-read "
                "all files from their start position, or restore it from a backup"
            ) from None
        if registry.version != REGISTRY_VERSION:
            raise CheckpointError(f"{self.path}: registry version {registry.version} is not supported")
        return registry

    def save(self, registry: RegistryFile) -> None:
        write_durably(self.path, orjson.dumps(registry.model_dump()), "the registry")


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
