"""Read a secret file (password, API key, spool key, TLS private key) only if no other user can read it.

The rules are PostgreSQL's for its server key, which sshd applies to host keys in the same spirit:

- a regular file (symlinks are followed: certbot's `live/` links are fine);
- owned by root or by the user the agent runs as (anyone else could read or replace it);
- no permission at all for other users;
- no group permission either, except read when the owner is root and the group is the agent's own
  group: the `root:ucsiem 0640` layout, where only root can change the file and the agent can read it.

`credential:NAME` names a systemd credential (`LoadCredential=NAME:/path` in the unit): it resolves to
`$CREDENTIALS_DIRECTORY/NAME`. systemd copies credentials to a directory only this service can enter
and chooses the files' owner and ACLs itself, so there the file must be regular and the directory closed
to other users; its mode bits are not judged.

The file is opened first and the checks run on the open descriptor, so the file read is the file judged.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

from ucsiem.errors import ConfigError

CREDENTIAL_PREFIX = "credential:"
CREDENTIALS_ENV = "CREDENTIALS_DIRECTORY"


class SecretFileError(ValueError):
    """One secret file is unsafe or unreadable; the message says how to fix it (without the key path)."""


def resolve_secret_path(value: Path, base_dir: Path | None = None) -> Path:
    """`credential:NAME` -> `$CREDENTIALS_DIRECTORY/NAME`; a relative path is taken from `base_dir`."""
    text = str(value)
    if text.startswith(CREDENTIAL_PREFIX):
        name = text[len(CREDENTIAL_PREFIX):]
        if not name or "/" in name or name in (".", ".."):
            raise SecretFileError(f"{text!r}: a credential name is a plain file name, as in LoadCredential=NAME:...")
        directory = os.environ.get(CREDENTIALS_ENV)
        if not directory:
            raise SecretFileError(
                f"{text!r} needs ${CREDENTIALS_ENV}, which systemd sets for a unit with LoadCredential={name}:PATH "
                "(outside the unit, run the check with `systemd-run -P -p LoadCredential=...` or give a file path)")
        return Path(directory) / name
    if base_dir is not None and not value.is_absolute():
        return base_dir / value
    return value


def read_secret_file(path: Path) -> bytes:
    """The file's bytes, or SecretFileError saying why it is refused (see the module's rules)."""
    path = resolve_secret_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        raise SecretFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        problem = _problem(path, os.fstat(fd))
        if problem is not None:
            raise SecretFileError(problem)
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise SecretFileError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def check_secret_file(path: Path) -> None:
    """SecretFileError if the file exists and breaks the rules; a missing file is reported when it is read."""
    try:
        read_secret_file(path)
    except SecretFileError:
        if resolve_secret_path(path).exists() or str(path).startswith(CREDENTIAL_PREFIX):
            raise


def read_secret(path: Path, key: str) -> bytes:
    """read_secret_file for callers outside config loading: ConfigError naming the config key."""
    try:
        return read_secret_file(path)
    except SecretFileError as exc:
        raise ConfigError("configuration", [f"{key}: {exc}"]) from None


def _problem(path: Path, st: os.stat_result) -> str | None:
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if _in_credentials_directory(path):
        return _credentials_directory_problem()
    mode = stat.S_IMODE(st.st_mode)
    me = os.geteuid()
    if st.st_uid not in (0, me):
        return (f"{path} belongs to {user_name(st.st_uid)}, not to root or to {user_name(me)} (the agent's user), "
                f"so that user can read or replace it; chown {user_name(me)} it")
    if mode & 0o007:
        what = "readable" if mode & 0o004 else "accessible"
        return f"{path} is {what} by other users (mode {mode:04o}); chmod 600 it"
    root_shares_with_agent = st.st_uid == 0 and st.st_gid == os.getegid() and mode & 0o070 == 0o040
    if mode & 0o070 and not root_shares_with_agent:
        return (f"{path} is open to the group {_group(st.st_gid)} (mode {mode:04o}); chmod 600 it "
                f"(or chown root:{_group(os.getegid())} and chmod 640)")
    return None


def _in_credentials_directory(path: Path) -> bool:
    directory = os.environ.get(CREDENTIALS_ENV)
    return directory is not None and directory != "" and path.parent == Path(directory)


def _credentials_directory_problem() -> str | None:
    directory = os.environ[CREDENTIALS_ENV]
    try:
        mode = stat.S_IMODE(os.stat(directory).st_mode)
    except OSError as exc:
        return f"cannot inspect ${CREDENTIALS_ENV} {directory}: {exc.strerror}"
    if mode & 0o007:
        return (f"${CREDENTIALS_ENV} {directory} is open to other users (mode {mode:04o}); "
                "it should be the private directory systemd makes for LoadCredential=")
    return None


def user_name(uid: int) -> str:
    """The account name of `uid` for messages (`uid N` when it has none)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"gid {gid}"
