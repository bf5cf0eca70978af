#!/usr/bin/env python3
"""What compiling the parsing code with mypyc gives (not a test, and not how ucsiem is installed).

    python bench/compiled_bench.py [--only cisco_expressway,audiocodes_sbc] [--lines 20000] [--rounds 5]

Copies `ucsiem/` and `parsers/` (as `ucsiem_parsers/`) into a temporary folder and compiles there, with
mypyc (part of mypy, already a development dependency), the parser API's helpers (`ucsiem/parsing/` but
plugin discovery) and
the chosen parsers' modules: all but the `__init__.py` files and the modules that import pydantic, which
mypyc cannot build today (its generated C names `pydantic.main` wrongly). Then, for each parser:

1. its golden files (`ucsiem.goldens.check_parser`, as `ucsiem parsers test` runs them) in the compiled
   copy: the compiled code must give every one exactly, or nothing is printed;
2. a worker's whole stage (`run_batch`: parse, validate, complete, serialise) over the parser's golden
   lines repeated to `--lines` (the corpora of `bench/parsers_bench.py`), in batches of 512, in the source
   tree and in the compiled copy alternately, `--rounds` times each; the best round of each is printed
   as CPU-µs per line (`time.process_time`, the machine's neighbours move the median more than the best).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Nothing of ucsiem or of the other benches is imported at the top: a measuring child imports this module
# with the compiled copy first on its path, and the other benches put the source tree first.
REPO = Path(__file__).resolve().parents[1]
BATCH = 512


def compilable(path: Path) -> bool:
    """Not `__init__.py`, not a pydantic user, not plugin discovery (`registry.py`: off the hot path)."""
    return path.name not in ("__init__.py", "registry.py") and "pydantic" not in path.read_text(encoding="utf-8")


def build(root: Path, parser_ids: list[str]) -> float:
    """Copy and compile into `root`; the seconds mypyc took."""
    shutil.copytree(REPO / "ucsiem", root / "ucsiem", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "parsers", root / "ucsiem_parsers", ignore=shutil.ignore_patterns("__pycache__"))
    modules = [p for p in sorted((root / "ucsiem" / "parsing").rglob("*.py")) if compilable(p)]
    for parser_id in parser_ids:
        folder = root / "ucsiem_parsers" / parser_id
        modules += [p for p in sorted(folder.glob("*.py")) if compilable(p)]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mypyc", *(str(m.relative_to(root)) for m in modules)],
                          cwd=root, env={**os.environ, "MYPYPATH": str(root)}, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"mypyc failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def measure_here(parser_id: str, path: Path, rounds: int) -> dict[str, object]:
    """In this process (the source tree or the compiled copy, by PYTHONPATH): the golden files, then
    run_batch's best CPU time per line."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from ucsiem.goldens import check_parser
    from ucsiem.inputs.framing import Framer
    from ucsiem.normalize import Normalizer
    from ucsiem.parsing.contract import ParseContext
    from ucsiem.parsing.registry import load_registry
    from ucsiem.pipeline.work import BatchJob, run_batch

    loaded = load_registry(entry_point_plugins=False).get(parser_id)
    spec = loaded.spec
    goldens = check_parser(loaded)
    framer = Framer(spec.framing, 1_048_576)
    data = path.read_bytes()
    frames = framer.feed(data) + framer.flush(final=True)
    ctx = ParseContext(timezone=ZoneInfo("UTC"))
    now = datetime.now(UTC)
    best = float("inf")
    docs = 0
    for _ in range(rounds):
        normalizer = Normalizer(spec, host_name=None, agent_name=None)
        headers: dict[str, str] = {}
        docs = 0
        started = time.process_time()
        for i in range(0, len(frames), BATCH):
            job = BatchJob.of("bench", "bench", str(path), frames[i:i + BATCH], headers, now, now)
            result = run_batch(normalizer, ctx, job)
            headers = result.headers
            docs += len(result.docs)
        best = min(best, time.process_time() - started)
    return {"parser_module": sys.modules[spec.parse.__module__].__file__,
            "helpers_module": sys.modules["ucsiem.parsing.helpers"].__file__,
            "goldens": len(goldens), "goldens_failed": sum(not r.ok for r in goldens),
            "us_per_line": best / data.count(b"\n") * 1e6, "docs": docs}


def measure(parser_id: str, path: Path, rounds: int, pythonpath: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    # the bench package is found after PYTHONPATH, so that the compiled copy's ucsiem comes first
    code = (f"import json, sys; sys.path.append({str(REPO)!r}); from bench.compiled_bench import measure_here; "
            f"from pathlib import Path; print(json.dumps(measure_here({parser_id!r}, Path({str(path)!r}), {rounds})))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          cwd=pythonpath or REPO)
    if done.returncode != 0:
        sys.exit(f"measuring {parser_id} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    sys.path.insert(0, str(REPO))
    from bench.parsers_bench import corpus
    from ucsiem.goldens import find_cases
    from ucsiem.parsing.registry import load_registry

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="cisco_expressway,audiocodes_sbc,ribbon_sonus_sbc",
                    help="comma-separated parser ids (default: the ones the performance issue names)")
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    wanted = [x for x in args.only.split(",") if x]
    registry = {loaded.spec.id: loaded for loaded in load_registry(entry_point_plugins=False).all()}
    unknown = [x for x in wanted if x not in registry or registry[x].folder is None]
    if unknown:
        sys.exit(f"not built-in parsers: {', '.join(unknown)}")

    with tempfile.TemporaryDirectory(prefix="ucsiem-mypyc-") as tmp:
        root = Path(tmp)
        seconds = build(root, wanted)
        print(f"mypyc compiled ucsiem/parsing and {len(wanted)} parser(s) in {seconds:.0f} s", file=sys.stderr)
        rows = []
        for parser_id in wanted:
            folder = registry[parser_id].folder
            assert folder is not None  # checked above
            cases = [c for c in find_cases(folder) if not c.name.endswith("-fail.log")]
            path, _, _ = corpus(parser_id, cases, args.lines)
            source, compiled = measure(parser_id, path, args.rounds, None), measure(parser_id, path, args.rounds, root)
            if not (compiled["parser_module"].startswith(tmp) and compiled["parser_module"].endswith(".so")
                    and compiled["helpers_module"].endswith(".so")):
                sys.exit(f"{parser_id}: the compiled copy was not the one imported: {compiled}")
            if compiled["goldens_failed"] or not compiled["goldens"] or compiled["docs"] != source["docs"]:
                sys.exit(f"{parser_id}: compiled, it does not give its golden files: {compiled} / {source}")
            rows.append((parser_id, source, compiled))
            print(f"{parser_id}: {source['us_per_line']:.1f} -> {compiled['us_per_line']:.1f} CPU-µs a line",
                  file=sys.stderr)

    print("| parser | golden files passed, compiled | source tree, CPU-µs a line | compiled | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for parser_id, source, compiled in rows:
        s, c = float(source["us_per_line"]), float(compiled["us_per_line"])
        print(f"| `{parser_id}` | {compiled['goldens']} | {s:.1f} | {c:.1f} | {s / c:.2f}x |")


if __name__ == "__main__":
    main()
