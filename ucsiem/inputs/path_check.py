"""What a file input's paths find on this machine, checked before reading (`ucsiem check`, `run` at start).

A glob that matches nothing, a directory given where files are meant, a file the agent's user cannot
read: the agent would read nothing and say nothing. These are warnings, not errors: a log file may
appear after the agent starts (a service not yet installed, the first rotation), which the input's
rescans pick up.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from ucsiem.config import Config, FileInputConfig

_MAGIC = set("*?[")


def path_warnings(config: Config) -> list[str]:
    """One line per problem, naming the input and the pattern."""
    lines = []
    for i, inp in enumerate(config.inputs):
        if not isinstance(inp, FileInputConfig):
            continue
        for j, pattern in enumerate(inp.paths):
            where = f"inputs[{i}].paths[{j}] ({pattern})"
            lines += [f"{where}: {problem}" for problem in pattern_problems(pattern)]
    return lines


def pattern_problems(pattern: str) -> list[str]:
    if not _MAGIC & set(pattern):
        path = Path(pattern)
        if path.is_dir():
            return [f"is a directory; name the files in it, e.g. {os.path.join(pattern, '*.log')}"]
        if not path.exists():
            return [_missing(path)]
        return [] if os.access(path, os.R_OK) else ["is not readable by this user (check its mode and group)"]
    matches = glob.glob(pattern)
    if not matches:
        return ["matches no file yet (it is read as soon as one appears)" + _folder_hint(pattern)]
    problems = []
    files = [m for m in matches if os.path.isfile(m)]
    if not files:
        problems.append("matches only directories; add a file pattern, e.g. "
                        f"{os.path.join(pattern, '*.log')}")
    unreadable = [f for f in files if not os.access(f, os.R_OK)]
    if unreadable:
        problems.append(f"{len(unreadable)} matching file(s) are not readable by this user, e.g. {unreadable[0]}")
    return problems


def _missing(path: Path) -> str:
    parent = path.parent
    if not parent.exists():
        return f"does not exist, nor does its folder {parent}"
    if not os.access(parent, os.R_OK | os.X_OK):
        return f"cannot be seen: its folder {parent} is not readable by this user"
    return "does not exist yet (it is read as soon as it appears)"


def _folder_hint(pattern: str) -> str:
    folder = Path(pattern).parent
    while _MAGIC & set(str(folder)):
        folder = folder.parent
    if not folder.exists():
        return f"; its folder {folder} does not exist"
    if not os.access(folder, os.R_OK | os.X_OK):
        return f"; its folder {folder} is not readable by this user"
    return ""
