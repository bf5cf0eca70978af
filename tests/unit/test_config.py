"""Config errors name the key path, list every problem, and are never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ucsiem.config import load_config
from ucsiem.errors import ConfigError

GOOD = """
inputs:
  - id: exp
    paths: [logs/*.log]
    parser: cisco_expressway
outputs:
  - type: file
    path: out/events.ndjson
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def test_good_config_resolves_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.file_inputs()[0].paths == [str(tmp_path / "logs/*.log")]
    assert config.outputs[0].path == tmp_path / "out/events.ndjson"  # type: ignore[union-attr]


def test_every_problem_is_listed_with_its_key_path(tmp_path: Path) -> None:
    extra = "parser: cisco_expressway\n    strat_at: end\n    timezone: Mars/Base"
    bad = GOOD.replace("parser: cisco_expressway", extra)
    bad = bad.replace("type: file", "type: kafak")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, bad))
    problems = "\n".join(info.value.problems)
    assert "inputs[0].strat_at: unknown key" in problems
    assert "inputs[0].timezone" in problems and "Mars/Base" in problems
    assert "outputs[0]: unknown type 'kafak'" in problems


def test_missing_required_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "inputs:\n  - id: x\n"))
    problems = info.value.problems
    assert "inputs[0].paths: required key is missing" in problems
    assert "inputs[0].parser: required key is missing" in problems
    assert "outputs: required key is missing" in problems


def test_malformed_yaml_gives_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "inputs: [\n  - id: x\n"))
    assert "line" in str(info.value) and "not valid YAML" in str(info.value)


def test_unreadable_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "missing.yml")
    assert str(info.value) == (f"{tmp_path / 'missing.yml'}: no such file "
                               "(name the configuration file with --config FILE)")
    with pytest.raises(ConfigError, match="is a directory") as info:
        load_config(tmp_path)
    assert "invalid configuration" not in str(info.value)
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(write(tmp_path, "- just a list\n"))


def test_duplicate_input_ids(tmp_path: Path) -> None:
    text = GOOD.replace("inputs:\n", "inputs:\n  - {id: exp, paths: [a], parser: x}\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_config(write(tmp_path, text))


def test_output_settings_are_checked_with_their_paths(tmp_path: Path) -> None:
    text = """
inputs: [{id: a, paths: [x.log], parser: cisco_expressway}]
outputs:
  - {type: kafka, bootstrap_servers: [k:9092], acks: 1, sasl: {username: u}, tls: {cert_file: c.pem}}
  - {type: elasticsearch, hosts: [http://e:9200], namespace: Bad-NS, username: u}
  - {type: kafka, bootstrap_servers: [k:9092], compression: brotli}
  - {type: elasticsearch, id: e2, hosts: [http://e:9200], username: u}
spool: {enabled: true, when_full: drop_oldest}
"""
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    problems = "\n".join(err.value.problems)
    # (a model's own cross-field check runs once its fields are valid: acks is checked below)
    assert "outputs[0].sasl: Value error, give exactly one of password or password_file" in problems
    assert "outputs[0].tls: Value error, cert_file and key_file go together" in problems
    assert "outputs[1].namespace: String should match pattern" in problems
    assert "outputs[3]: Value error, username needs exactly one of password or password_file" in problems
    assert "outputs[2].compression: Input should be 'none', 'gzip', 'snappy', 'lz4' or 'zstd'" in problems
    assert "spool.when_full: Input should be 'block' or 'drop_newest'" in problems


def test_idempotent_producer_needs_acks_all(tmp_path: Path) -> None:
    text = """
inputs: [{id: a, paths: [x.log], parser: cisco_expressway}]
outputs: [{type: kafka, bootstrap_servers: [k:9092], acks: 1}]
"""
    with pytest.raises(ConfigError, match=r"outputs\[0\]: Value error, idempotent: true needs acks: all"):
        load_config(write(tmp_path, text))


def test_two_outputs_with_one_name_are_refused(tmp_path: Path) -> None:
    text = """
inputs: [{id: a, paths: [x.log], parser: cisco_expressway}]
outputs:
  - {type: kafka, bootstrap_servers: [k1:9092]}
  - {type: kafka, bootstrap_servers: [k2:9092]}
"""
    with pytest.raises(ConfigError, match="a second output named 'kafka:kafka'; give each an id"):
        load_config(write(tmp_path, text))


def test_secret_and_tls_paths_resolve_relative_to_the_config(tmp_path: Path) -> None:
    text = """
inputs: [{id: a, paths: [x.log], parser: cisco_expressway}]
outputs:
  - {type: kafka, bootstrap_servers: [k:9092], tls: {ca_file: ca.pem},
     sasl: {mechanism: PLAIN, username: u, password_file: secret}}
spool: {enabled: true, encryption_key_file: keys/spool.key}
"""
    config = load_config(write(tmp_path, text))
    out = config.outputs[0]
    assert out.type == "kafka" and out.tls is not None and out.sasl is not None
    assert out.tls.ca_file == tmp_path / "ca.pem"
    assert out.sasl.password_file == tmp_path / "secret"
    assert config.spool.encryption_key_file == tmp_path / "keys" / "spool.key"
    assert config.spool_path() == config.agent.data_dir / "spool.db"


def test_a_single_path_and_sizes_with_units(tmp_path: Path) -> None:
    """`paths: x/*.log` is one pattern; every byte count takes 1MB (10**6), 64KiB (2**16), 1GiB or a number."""
    text = GOOD.replace("paths: [logs/*.log]", "paths: logs/*.log\n    max_record_bytes: 64KiB\n"
                                               "    read_chunk_bytes: 1MB")
    text = text.replace("path: out/events.ndjson", "path: out/events.ndjson\n    max_bytes: 1 GiB")
    config = load_config(write(tmp_path, text + "spool:\n  max_bytes: 2gb\n"))
    inp = config.file_inputs()[0]
    assert inp.paths == [str(tmp_path / "logs/*.log")]
    assert (inp.max_record_bytes, inp.read_chunk_bytes) == (65_536, 1_000_000)
    assert config.outputs[0].max_bytes == 1024**3  # type: ignore[union-attr]
    assert config.spool.max_bytes == 2_000_000_000


def test_a_size_that_is_not_one_says_what_to_write(tmp_path: Path) -> None:
    text = GOOD.replace("paths: [logs/*.log]", "paths: [logs/*.log]\n    max_record_bytes: 1 megabyte")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text + "spool:\n  max_bytes: 1.5B\n"))
    hint = "write a byte count such as 1048576, 1MiB (1,048,576), 1MB (1,000,000), 64KiB or 1GiB"
    first, second = info.value.problems
    assert first.startswith("inputs[0].max_record_bytes: ") and first.endswith(f"'1 megabyte' is not a size: {hint}")
    assert second.startswith("spool.max_bytes: ") and second.endswith(f"'1.5B' is not a whole number of bytes: {hint}")


def test_an_unknown_key_gets_the_closest_real_one(tmp_path: Path) -> None:
    """difflib against the field names of the model where the key was written (through lists and the
    input/output type), and no guess when nothing is close."""
    text = GOOD.replace("parser: cisco_expressway", "parser: cisco_expressway\n    strat_at: end\n    colour: blue")
    text = text.replace("path: out/events.ndjson", "path: out/events.ndjson\n    max_byte: 1MB")
    text += "agent:\n  data_dri: /tmp\nspool:\n  enable: true\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    problems = "\n".join(info.value.problems)
    for key, real in [("inputs[0].strat_at", "start_at"), ("outputs[0].max_byte", "max_bytes"),
                      ("agent.data_dri", "data_dir"), ("spool.enable", "enabled")]:
        assert f"{key}: unknown key (did you mean {real!r}? see the configuration reference" in problems, problems
    assert "inputs[0].colour: unknown key (check the spelling;" in problems
