"""Files the agent writes are its user's only, whatever the umask it was started with.

The data folder holds the checkpoints, the spool (events in clear text when it is not encrypted, URLs
with passwords included) and the dead letters (refused events, original text included). A 0644 spool
in a 0755 folder let any local user run `strings` on it. The unit sets `UMask=0077` too; this covers
`ucsiem run` started by hand or by another supervisor.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ucsiem.errors import CheckpointError

PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700


def protect_data_dir(data_dir: Path) -> None:
    """From now on this process creates files 0600 and folders 0700 (umask 077); `data_dir` becomes 0700
    and the files an older run left in it lose their group and other permissions.

    Call once at start, before the checkpoints, the spool or an output is opened and before worker
    processes are started (they inherit the umask). Folders and files owned by another user (a layout
    an administrator chose) are left as they are."""
    os.umask(PRIVATE_UMASK)
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        _tighten(data_dir)
        with os.scandir(data_dir) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    _tighten(Path(entry.path))
    except OSError as exc:
        raise CheckpointError(f"agent.data_dir {data_dir}: cannot create or protect it: {exc.strerror}; "
                              "it must be a folder the agent's user owns") from None


def _tighten(path: Path) -> None:
    st = path.lstat()
    if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) & 0o077:
        path.chmod(stat.S_IMODE(st.st_mode) & 0o700)
