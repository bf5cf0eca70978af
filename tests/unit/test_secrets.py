"""Secret files: refused when other users can read them, at config load, with the key path named.

The tests run as root, which can read any file: refusals are judged from the modes and owners the
files carry, which root can set and the check observes like any user would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from ucsiem.config import load_config, read_secret
from ucsiem.errors import ConfigError
from ucsiem.secrets import SecretFileError, read_secret_file

KAFKA = """
inputs: [{{id: a, paths: [x.log], parser: cisco_expressway}}]
outputs:
  - {{type: kafka, bootstrap_servers: [k:9092], tls: {{ca_file: ca.pem, cert_file: client.pem, key_file: {key}}},
     sasl: {{mechanism: PLAIN, username: u, password_file: {password}}}}}
"""


def secret(path: Path, mode: int, content: str = "s3cret\n") -> Path:
    path.write_text(content)
    path.chmod(mode)
    return path


def config(tmp_path: Path, key: str = "client.key", password: str = "kafka.pass") -> Path:
    path = tmp_path / "config.yml"
    path.write_text(KAFKA.format(key=key, password=password))
    return path


def test_a_password_file_others_can_read_is_refused_naming_the_key(tmp_path: Path) -> None:
    secret(tmp_path / "kafka.pass", 0o644)
    secret(tmp_path / "client.key", 0o600)
    secret(tmp_path / "ca.pem", 0o644)  # certificates are public: not judged
    with pytest.raises(ConfigError) as info:
        load_config(config(tmp_path))
    assert info.value.problems == [
        f"outputs[0].sasl.password_file: {tmp_path / 'kafka.pass'} is readable by other users (mode 0644); "
        "chmod 600 it"]


def test_a_tls_private_key_open_to_its_group_is_refused(tmp_path: Path) -> None:
    secret(tmp_path / "kafka.pass", 0o600)
    key = secret(tmp_path / "client.key", 0o660)
    with pytest.raises(ConfigError, match=r"outputs\[0\]\.tls\.key_file: .*client.key is open to the group "
                                          r"\w+ \(mode 0660\); chmod 600 it"):
        load_config(config(tmp_path))
    key.chmod(0o600)
    loaded = load_config(config(tmp_path))
    assert read_secret(None, loaded.outputs[0].sasl.password_file) == "s3cret"  # type: ignore[union-attr]


def test_private_files_pass_and_root_may_share_with_the_agents_group(tmp_path: Path) -> None:
    assert read_secret_file(secret(tmp_path / "a", 0o600)) == b"s3cret\n"
    assert read_secret_file(secret(tmp_path / "b", 0o400)) == b"s3cret\n"
    shared = secret(tmp_path / "c", 0o640)
    if os.geteuid() == 0:  # root:<agent's group> 0640: only root can change it, the agent can read it
        os.chown(shared, 0, os.getegid())
        assert read_secret_file(shared) == b"s3cret\n"
    os.chown(shared, -1, os.getegid() + 4242)  # another group: refused
    with pytest.raises(SecretFileError, match=r"is open to the group .* \(mode 0640\)"):
        read_secret_file(shared)


def test_a_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "only root can give a file to another user: run the suite as root, as CI does"
    path = secret(tmp_path / "pass", 0o600)
    os.chown(path, 4242, -1)
    with pytest.raises(SecretFileError, match=r"belongs to uid 4242, not to root or to root \(the agent's user\)"):
        read_secret_file(path)


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(SecretFileError, match="is not a regular file"):
        read_secret_file(fifo)
    with pytest.raises(SecretFileError, match=r"cannot read .*missing: No such file"):
        read_secret_file(tmp_path / "missing")


def test_a_missing_secret_is_reported_when_read_not_at_load(tmp_path: Path) -> None:
    secret(tmp_path / "client.key", 0o600)
    loaded = load_config(config(tmp_path))  # a file named for later (a credential store mounted at start) is fine
    with pytest.raises(ConfigError, match=r"password_file: cannot read .*kafka.pass: No such file"):
        read_secret(None, loaded.outputs[0].sasl.password_file, "password_file")  # type: ignore[union-attr]
    assert read_secret(SecretStr("inline"), None) == "inline"


def test_systemd_credentials_resolve_from_credentials_directory(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "credentials"
    creds.mkdir(mode=0o500)
    secret(creds / "kafka", 0o444)  # systemd owns these modes and ACLs; its private directory protects them
    secret(tmp_path / "client.key", 0o600)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    loaded = load_config(config(tmp_path, password="credential:kafka"))
    sasl = loaded.outputs[0].sasl  # type: ignore[union-attr]
    assert sasl is not None and sasl.password_file == creds / "kafka"
    assert read_secret(None, sasl.password_file) == "s3cret"
    # without the load step (a config built in code) the runtime read resolves the name too
    assert read_secret(None, Path("credential:kafka")) == "s3cret"

    creds.chmod(0o755)  # not what systemd makes: judged like any other file folder
    with pytest.raises(ConfigError, match=r"password_file: .*CREDENTIALS_DIRECTORY .* is open to other users"):
        load_config(config(tmp_path, password="credential:kafka"))

    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(ConfigError, match=r"outputs\[0\]\.sasl\.password_file: 'credential:kafka' needs "
                                          r"\$CREDENTIALS_DIRECTORY.*LoadCredential=kafka:PATH"):
        load_config(config(tmp_path, password="credential:kafka"))
    with pytest.raises(ConfigError, match="a credential name is a plain file name"):
        load_config(config(tmp_path, password="credential:../etc/shadow"))


def test_the_spool_key_is_checked_at_load(tmp_path: Path) -> None:
    secret(tmp_path / "spool.key", 0o604)
    path = tmp_path / "config.yml"
    path.write_text("inputs: [{id: a, paths: [x.log], parser: cisco_expressway}]\n"
                    "outputs: [{type: stdout}]\n"
                    "spool: {enabled: true, encryption_key_file: spool.key}\n")
    with pytest.raises(ConfigError, match=r"spool.encryption_key_file: .* is readable by other users \(mode 0604\)"):
        load_config(path)
