"""What every parser's sample test needs: the built-in parser, the shared sample files, hostile input."""

from __future__ import annotations

import contextlib
import importlib
import random
from pathlib import Path

from ucsiem.errors import ParseError
from ucsiem.parsing.contract import ParseContext, ParserSpec, RawRecord

SHARED_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"


def builtin_parser(parser_id: str) -> ParserSpec:
    # Imported by name: type checkers cannot follow setup.py's `parsers/` -> `ucsiem_parsers` mapping.
    spec = getattr(importlib.import_module(f"ucsiem_parsers.{parser_id}"), "PARSER", None)
    assert isinstance(spec, ParserSpec)
    return spec


def sample_files(product: str, pattern: str = "*.log") -> list[Path]:
    folder = SHARED_SAMPLES / product
    assert folder.is_dir(), f"{folder} is missing: the tests expect shared/ beside the repository"
    files = sorted(folder.glob(pattern))
    assert files, f"no {pattern} in {folder}"
    return files


def sample_lines(product: str, pattern: str = "*.log") -> list[str]:
    return [line for p in sample_files(product, pattern)
            for line in p.read_text(encoding="utf-8").splitlines() if line]


def mutated(seeds: list[str], alphabet: str, seed: int, count: int = 2000) -> list[str]:
    """Real lines with a few characters replaced, cut at a random length."""
    rnd = random.Random(seed)
    out: list[str] = []
    for _ in range(count):
        chars = list(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 6)):
            chars[rnd.randrange(len(chars))] = rnd.choice(alphabet)
        out.append("".join(chars)[: rnd.randint(1, len(chars))])
    return out


def assert_only_parse_error(parser: ParserSpec, inputs: list[str], ctx: ParseContext) -> None:
    """Only ParseError escapes `parse`. (Backtracking is checked statically in test_regex_safety.py; a
    hang is caught by the suite's per-test timeout.)"""
    for text in inputs:
        with contextlib.suppress(ParseError):
            events = parser.parse(RawRecord(text), ctx)
            assert isinstance(events, list), text[:80]
