"""Which files a file input reads: its globs and excludes, the checks on each path, the folders it watches.

Everything here touches paths, not open files: a path can vanish or lose its permission between any two
calls (rotation renames and deletes files while we look), so every call on a path reports instead of
raising. A file that vanished is simply not found (said at debug level: rotation does this all day); a file
the agent's user cannot read or stat is said once per path, as a warning, since the operator must act.
"""

from __future__ import annotations

import fnmatch
import glob
import logging
import os
import stat

from ucsiem.config import FileInputConfig

log = logging.getLogger("ucsiem.input.file")

Ident = tuple[int, int]  # (device, inode): a file, whatever its name
Found = dict[Ident, tuple[str, os.stat_result]]


class Discovery:
    """The globs of one input expanded into files, with the path checks done once and said once."""

    def __init__(self, cfg: FileInputConfig) -> None:
        self.cfg = cfg
        self._warned: set[str] = set()

    def glob(self) -> Found:
        """Regular, readable files under the globs and not excluded, by identity (the first name wins)."""
        found: Found = {}
        for pattern in self.cfg.paths:
            for path in sorted(glob.glob(pattern)):
                if self.excluded(path):
                    continue
                st = self.stat(path)
                if st is None or not stat.S_ISREG(st.st_mode):
                    continue
                if not os.access(path, os.R_OK):
                    if os.path.lexists(path):  # not merely gone since the stat
                        self.warn_once(path, f"cannot read {path}: permission denied (give the agent's user read "
                                             "access)")
                    continue
                found.setdefault((st.st_dev, st.st_ino), (path, st))
        return found

    def siblings(self, folder: str) -> list[tuple[str, os.stat_result]]:
        """Regular, not excluded files in `folder` (where rotated copies go), sorted by name."""
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return []
        out = []
        for name in names:
            path = os.path.join(folder, name)
            if self.excluded(path):
                continue
            st = self.stat(path, quiet=True)
            if st is not None and stat.S_ISREG(st.st_mode):
                out.append((path, st))
        return out

    def stat(self, path: str, *, quiet: bool = False) -> os.stat_result | None:
        """`os.stat`, or None: gone (said at debug level), or not allowed (warned once unless `quiet`)."""
        try:
            return os.stat(path)
        except FileNotFoundError:
            log.debug("File gone before it could be checked.", extra={"input": self.cfg.id, "path": path})
        except OSError as exc:
            if not quiet:
                self.warn_once(path, f"cannot stat {path}: {exc.strerror}")
        return None

    def open(self, path: str, what: str = "open") -> int | None:
        """Open for reading, or None: a file that vanished meanwhile is not an error (rotation); one that cannot
        be read is warned once. Never raises."""
        try:
            return os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            log.debug("File gone before it could be opened.", extra={"input": self.cfg.id, "path": path})
        except OSError as exc:
            self.warn_once(path, f"cannot {what} {path}: {exc.strerror}")
        return None

    def excluded(self, path: str) -> bool:
        name = os.path.basename(path)
        return any(fnmatch.fnmatch(name, ex) or fnmatch.fnmatch(path, ex) for ex in self.cfg.exclude)

    def wanted(self, path: str) -> bool:
        """Does the path fall under the globs (and not an exclude)? No system call."""
        return any(fnmatch.fnmatch(path, pattern) for pattern in self.cfg.paths) and not self.excluded(path)

    def folders(self) -> set[str]:
        """The folders to watch for changes: those of the patterns, when they are plain folders."""
        return {os.path.dirname(p) or "." for p in self.cfg.paths}

    def warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, extra={"input": self.cfg.id})
