"""Command line: run the agent, check a config, parse files, manage parsers and mappings.

Exit codes: 0 success, 1 failure while running (or failed tests/drift), 2 bad config, plugin or usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import ValidationError

from ucsiem import __version__
from ucsiem.config import Config, load_config, parse_config
from ucsiem.enrich.stage import enrichment_problems
from ucsiem.errors import CheckpointError, ConfigError, OutputError, PluginError, SpoolError, UcsiemError
from ucsiem.inputs.unrouted import UNROUTED_PARSER
from ucsiem.inputs.webhook_sender import SENDER_PARSER
from ucsiem.log import setup_logging
from ucsiem.parsing.registry import ParserRegistry, load_plugin_folder, load_registry

if TYPE_CHECKING:
    from ucsiem.correlate import RuleSet

DEFAULT_CONFIG = Path("/etc/ucsiem/config.yml")
log = logging.getLogger("ucsiem.config")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except (ConfigError, PluginError) as exc:
        print(f"ucsiem: {exc}", file=sys.stderr)
        return 2
    except (CheckpointError, OutputError, UcsiemError) as exc:
        print(f"ucsiem: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ucsiem", description="Security log agent for Unified Communications.")
    p.add_argument("--version", action="version", version=f"ucsiem {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the agent")
    run.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG)
    run.add_argument("--once", action="store_true",
                     help="read every input to its end, deliver everything, checkpoint and exit")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="run the bundled sample logs through the agent into a local NDJSON file")
    demo.add_argument("--out", type=Path, default=Path("ucsiem-demo"))
    demo.set_defaults(func=cmd_demo)

    check = sub.add_parser("check", help="validate a config and the parsers it uses, listing every problem")
    check.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG)
    check.set_defaults(func=cmd_check)

    parse = sub.add_parser("parse", help="parse files with one parser: one JSON event per line on stdout")
    parse.add_argument("--parser", "-p", required=True)
    parse.add_argument("--timezone", default="UTC", help="zone for timestamps without one")
    parse.add_argument("--reference-time", help="ISO time giving the year to year-less stamps (default: file mtime)")
    parse.add_argument("--parser-dir", type=Path, action="append", default=[])
    parse.add_argument("--explain", action="store_true", help="show each stage: framed record, parsed, normalized")
    parse.add_argument("files", nargs="+", type=Path)
    parse.set_defaults(func=cmd_parse)

    parsers = sub.add_parser("parsers", help="list, test and scaffold parser plugins")
    psub = parsers.add_subparsers(dest="parsers_command", required=True)
    plist = psub.add_parser("list", help="list the available parsers")
    plist.add_argument("--parser-dir", type=Path, action="append", default=[])
    plist.add_argument("--config", "-c", type=Path, help="also list the plugins of its agent.parser_dirs")
    plist.set_defaults(func=cmd_parsers_list)
    ptest = psub.add_parser("test", help="check golden files (built-ins, or the plugin folders under PATH)")
    ptest.add_argument("path", nargs="?", type=Path)
    ptest.add_argument("--generate", action="store_true", help="rewrite the -expected.json files")
    ptest.set_defaults(func=cmd_parsers_test)
    pnew = psub.add_parser("new", help="scaffold a parser plugin with a sample, expected output and a test")
    pnew.add_argument("id")
    pnew.add_argument("--dir", type=Path, default=Path("."), help="folder to create the plugin in")
    pnew.set_defaults(func=cmd_parsers_new)

    rules = sub.add_parser("rules", help="list the correlation rules, or test them over files of events")
    rsub = rules.add_subparsers(dest="rules_command", required=True)
    rlist = rsub.add_parser("list", help="id, title, type, level and file of each rule")
    rlist.add_argument("--rules", type=Path, action="append", help="rule file or folder (repeat; default: the UC pack)")
    rlist.add_argument("--json", action="store_true", help="one JSON object per rule")
    rlist.set_defaults(func=cmd_rules_list)
    rtest = rsub.add_parser("test", help="the alerts the rules raise over NDJSON event files: one JSON alert per line")
    rtest.add_argument("--rules", type=Path, action="append", help="rule file or folder (repeat; default: the UC pack)")
    rtest.add_argument("events", nargs="+", type=Path, help="NDJSON files of events (as `ucsiem parse` writes them)")
    rtest.set_defaults(func=cmd_rules_test)

    correlate = sub.add_parser("correlate", help="run the correlation rules as a Kafka consumer-group service "
                                                 "over the shipped events (scale-out; see README)")
    correlate.add_argument("--config", "-c", type=Path, required=True, help="the service's YAML file")
    correlate.add_argument("--check", action="store_true", help="validate the file and the rules, then exit")
    correlate.set_defaults(func=cmd_correlate)

    mappings = sub.add_parser("mappings", help="generate or drift-check the files in mappings/ (and the compiled "
                                               "schema, ucsiem/schema/compiled.py) from the schema")
    mappings.add_argument("action", choices=["generate", "check"])
    mappings.add_argument("--out", type=Path, default=Path("mappings"))
    mappings.set_defaults(func=cmd_mappings)

    docs = sub.add_parser("docs", help="generate or drift-check the configuration reference in README.md from the "
                                       "config models")
    docs.add_argument("action", choices=["generate", "check"])
    docs.add_argument("--readme", type=Path, default=Path("README.md"))
    docs.set_defaults(func=cmd_docs)

    from ucsiem.outputs.registry import OUTPUTS

    setup = sub.add_parser("setup", help="prepare a destination: install the Elasticsearch templates")
    setup.add_argument("target", choices=[spec.type for spec in OUTPUTS if spec.setup is not None])
    setup.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG)
    setup.add_argument("--replicas", type=int, help="index.number_of_replicas in the index template (0: one node)")
    setup.set_defaults(func=cmd_setup)

    spool = sub.add_parser("spool", help="inspect the on-disk spool, or make its encryption key")
    ssub = spool.add_subparsers(dest="spool_command", required=True)
    sstatus = ssub.add_parser("status", help="undelivered batches, events and bytes per output")
    sstatus.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG)
    sstatus.set_defaults(func=cmd_spool_status)
    skeygen = ssub.add_parser("keygen", help="write a new random AES-256 key file (mode 0600)")
    skeygen.add_argument("path", type=Path)
    skeygen.set_defaults(func=cmd_spool_keygen)

    status = sub.add_parser("status", help="summary of a running agent from its metrics endpoint (exit 1: not ready)")
    where = status.add_mutually_exclusive_group()
    where.add_argument("--config", "-c", type=Path, help=f"read agent.metrics from it (default {DEFAULT_CONFIG})")
    where.add_argument("--url", help="the agent's endpoint, e.g. http://127.0.0.1:9464")
    status.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    status.set_defaults(func=cmd_status)

    test = sub.add_parser("test", help="check the outputs of a config can take events")
    tsub = test.add_subparsers(dest="test_command", required=True)
    toutput = tsub.add_parser("output", help="connect to every output as the agent would: one line each, exit 1 "
                                             "if any fails")
    toutput.add_argument("--config", "-c", type=Path, default=DEFAULT_CONFIG)
    toutput.add_argument("--timeout", type=float, default=15.0, help="seconds allowed for each output")
    toutput.set_defaults(func=cmd_test_output)
    return p


# -- run / demo / check ------------------------------------------------------------------------------


def _prepare(config: Config) -> ParserRegistry:
    """Everything that can be checked before reading a byte; raises ConfigError listing all problems."""
    registry = load_registry(config.agent.parser_dirs)
    problems = []
    for target in config.parse_targets():
        if target.parser in (UNROUTED_PARSER, SENDER_PARSER):  # internal: not plugins
            continue
        where = target.where.removesuffix("parser").removesuffix("default_")  # inputs[0]. / inputs[0].routes[1].
        if target.parser not in registry:
            known = ", ".join(p.spec.id for p in registry.all())
            problems.append(f"{target.where}: unknown parser {target.parser!r} (known: {known}; a plugin of your "
                            "own: put its folder in agent.parser_dirs)")
            continue
        spec = registry.get(target.parser).spec
        if spec.options is None:
            if target.parser_options:
                problems.append(f"{where}parser_options: parser {target.parser!r} takes no options")
            continue
        try:
            spec.options.model_validate(target.parser_options)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                problems.append(f"{where}parser_options.{loc}: {err['msg']}")
    problems.extend(enrichment_problems(config.enrich))
    if problems:
        raise ConfigError("configuration", problems)
    return registry


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    setup_logging(config.agent.log_level)
    for message in config.deprecations:
        log.warning(message)
    registry = _prepare(config)
    from ucsiem.agent import run_agent

    def reload() -> tuple[Config, ParserRegistry]:
        """SIGHUP: the same checks as at start (ConfigError, PluginError... refuse the reload)."""
        new = load_config(args.config)
        for message in new.deprecations:
            log.warning(message)
        return new, _prepare(new)

    stats = run_agent(config, registry, once=args.once, reloader=None if args.once else reload)
    if args.once:
        print(json.dumps(stats.summary()), file=sys.stderr)
    code = 0
    if stats.incomplete:
        print("ucsiem: stopped before everything read was delivered; what was not is read again (or sent from "
              "the spool) at the next start", file=sys.stderr)
        code = 1
    return code


def demo_config(out: Path) -> Config:
    """The embedded default: every built-in parser's sample logs (dead-letter cases too) into one file."""
    registry = load_registry(entry_point_plugins=False)
    inputs = []
    for loaded in registry.all():
        if loaded.folder is None or not (loaded.folder / "tests").is_dir():
            continue
        samples = str(loaded.folder / "tests" / "*.log")
        inputs.append({"id": loaded.spec.id, "parser": loaded.spec.id, "paths": [samples], "timezone": "UTC"})
    return parse_config({
        "agent": {"data_dir": str(out / "state"), "name": "ucsiem-demo", "stats_interval_secs": 0},
        "inputs": inputs,
        "outputs": [{"type": "file", "path": str(out / "events.ndjson")}],
        "pipeline": {"workers": 0},
        "correlation": {"rules": [str(shipped_rules())]},
    }, "demo configuration")


def cmd_demo(args: argparse.Namespace) -> int:
    out: Path = args.out
    for stale in (out / "state", out / "events.ndjson"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    config = demo_config(out)
    setup_logging("warning")
    registry = _prepare(config)
    from ucsiem.agent import run_agent

    stats = run_agent(config, registry, once=True).summary()
    events = out / "events.ndjson"
    alerts: dict[str, dict[str, Any]] = {}  # the last version of each alert (its count grows)
    written = {"event": 0, "pipeline_error": 0, "alert": 0}  # counted in the file, so the lines say what it holds
    with events.open("rb") as fh:
        for raw in fh:
            doc = orjson.loads(raw)
            if doc["event"].get("dataset") == "ucsiem.alert":  # not an appliance's own alert
                alerts[doc["event"]["id"]] = doc
                written["alert"] += 1
            else:
                written["pipeline_error" if doc["event"].get("kind") == "pipeline_error" else "event"] += 1
    print(f"Read {stats['records']} records from the bundled sample logs of {len(config.inputs)} parsers "
          f"({stats['skipped_records']} gave no event: headers, comments) and wrote {sum(written.values())} "
          f"documents to {events}: {written['event']} events, {written['pipeline_error']} dead letters "
          f"(event.kind: pipeline_error) and {written['alert']} alert documents")
    print(f"The shipped rule pack raised {len(alerts)} alerts (event.dataset: ucsiem.alert; an alert is written "
          "again each time its count grows):")
    for alert in sorted(alerts.values(), key=lambda a: (a["rule"]["name"], a["event"]["id"])):
        group = ", ".join(f"{k}={_dotted(alert, k)}" for k in alert["uc"]["alert"].get("group_by", []))
        print(terminal_safe(f"  {alert['rule']['name']} [{alert['uc']['alert']['level']}] "
                            f"count={alert['uc']['alert'].get('count', 1)} {group}".encode()).decode())
    print(f"Try: head -n 3 {events}   or   grep pipeline_error {events} | head -n 2   or   "
          f"grep ucsiem.alert {events} | head -n 1")
    return 0


def _dotted(doc: dict[str, Any], name: str) -> object:
    node: Any = doc
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    registry = _prepare(config)
    from ucsiem.inputs.checkpoint import CheckpointStore

    CheckpointStore(config.agent.data_dir).load()
    from ucsiem.inputs.path_check import path_warnings

    for line in [*config.deprecations, *security_warnings(config), *path_warnings(config)]:
        print(f"ucsiem: WARNING: {line}", file=sys.stderr)
    parsers = sorted({t.parser for t in config.parse_targets()} - {UNROUTED_PARSER, SENDER_PARSER})
    print(f"{args.config}: OK ({len(config.inputs)} input(s), {len(config.outputs)} output(s), "
          f"parsers: {', '.join(parsers)}; "
          f"{len(registry.all())} parser(s) available)")
    return 0


def security_warnings(config: Config, only: str | None = None) -> list[str]:
    """One line per output (of type `only`, or all) whose traffic travels in cleartext or to a server whose name
    is not checked."""
    lines = []
    for i, out in enumerate(config.outputs):
        if only is None or out.type == only:
            accepted = " (allow_insecure: true)" if out.risk_accepted() else ""
            lines += [f"outputs[{i}] ({out.output_name()}): {problem}{accepted}" for problem in out.security_warnings()]
    return lines


# -- parse -------------------------------------------------------------------------------------------


def cmd_parse(args: argparse.Namespace) -> int:
    from ucsiem.inputs.framing import Framer
    from ucsiem.normalize import Counters, Normalizer
    from ucsiem.parsing.contract import ParseContext, RawRecord
    from ucsiem.pipeline.work import BatchJob, decode, run_batch
    from ucsiem.progress import Progress

    registry = load_registry(args.parser_dir)
    spec = registry.get(args.parser).spec
    ctx = ParseContext(timezone=ZoneInfo(args.timezone))
    normalizer = Normalizer(spec, host_name=None, agent_name=None)
    out = sys.stdout.buffer
    status = 0
    totals = Counters()
    progress = Progress(sys.stderr)
    total_bytes, done_bytes = sum(p.stat().st_size for p in args.files if p.is_file()), 0
    for path in args.files:
        try:
            data_file = path.open("rb")
        except OSError as exc:
            print(f"ucsiem: cannot read {path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        with data_file:
            mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            ref = datetime.fromisoformat(args.reference_time) if args.reference_time else mtime
            framer = Framer(spec.framing, 1_048_576)
            headers: dict[str, str] = {}
            eof = False
            while not eof:
                chunk = data_file.read(1_048_576)
                eof = not chunk
                frames = framer.feed(chunk) if chunk else framer.flush(final=True)
                # --explain: each record's stages together (framed, parsed, normalized), one batch per record
                for batch in ([frame] for frame in frames) if args.explain else [frames]:
                    if args.explain:
                        frame = batch[0]
                        text, _ = decode(frame.data)
                        try:
                            parsed = spec.parse(RawRecord(text, frame.start, str(path)), ctx)
                        except UcsiemError as exc:
                            parsed = [{"error": str(exc)}]
                        except Exception as exc:  # a parser bug: shown, the normalized stage makes it a dead letter
                            parsed = [{"error": f"parser raised {type(exc).__name__}: {exc}"}]
                        out.write(terminal_safe(orjson.dumps({"stage": "framed", "offset": frame.start,
                                                              "flags": frame.flags, "record": text})) + b"\n")
                        out.write(terminal_safe(_dump_any({"stage": "parsed", "events": parsed})) + b"\n")
                    job = BatchJob.of("parse", f"parse:{path}", str(path), batch, headers, ref, datetime.now(UTC))
                    result = run_batch(normalizer, ctx, job)
                    totals.merge(result.counters)
                    headers = result.headers
                    for doc in result.docs:
                        doc = terminal_safe(doc)
                        out.write(b'{"stage":"normalized","event":' + doc + b"}\n" if args.explain else doc + b"\n")
                progress.update(done_bytes + data_file.tell(), total_bytes, totals.records)
            done_bytes += data_file.tell()
    out.flush()
    progress.close()
    c = totals
    print(json.dumps({"records": c.records, "events": c.events, "skipped": c.skipped, "pipeline_errors": c.errors}),
          file=sys.stderr)
    return status


# Characters JSON leaves as they are but a terminal acts on: DEL, the C1 controls (U+009B is CSI, which
# starts escape sequences on many terminals) and the bidirectional overrides that reorder what is shown.
_TERMINAL_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(doc: bytes) -> bytes:
    """The same JSON with those characters written as \\u escapes (they only occur inside strings, where an
    escape means the same character): hostile log content cannot drive the terminal of whoever looks."""
    text = doc.decode("utf-8", "replace")
    if not _TERMINAL_UNSAFE.search(text):
        return doc
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text).encode()


def _dump_any(value: object) -> bytes:
    """What a parser returned, whatever it holds (numbers beyond 64 bits, odd types): shown, never raised."""
    try:
        return orjson.dumps(value, default=str)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, default=str, ensure_ascii=False).encode("utf-8", "replace")


# -- parsers -----------------------------------------------------------------------------------------


def cmd_parsers_list(args: argparse.Namespace) -> int:
    dirs = list(args.parser_dir)
    if args.config is not None:
        dirs += load_config(args.config).agent.parser_dirs
    registry = load_registry(dirs)
    for loaded in registry.all():
        s = loaded.spec
        print(f"{s.id:<22} {s.version:<8} {s.dataset:<22} {s.vendor} {s.product}: {s.description}  [{loaded.origin}]")
    return 0


def cmd_parsers_test(args: argparse.Namespace) -> int:
    import time

    from ucsiem.goldens import check_parser

    os.environ["TZ"] = "Etc/GMT+2"  # a non-UTC process zone makes accidental local-time use visible
    time.tzset()
    if args.path is None:
        targets = load_registry(entry_point_plugins=False).all()
    elif (args.path / "__init__.py").is_file():
        targets = [load_plugin_folder(args.path)]
    else:  # a folder of plugin folders
        targets = load_registry([args.path], entry_point_plugins=False).all()
        targets = [t for t in targets if t.folder is not None and t.folder.parent.resolve() == args.path.resolve()]
    failed = 0
    total = 0
    for loaded in targets:
        results = check_parser(loaded, generate=args.generate)
        if not results:
            print(f"FAIL {loaded.spec.id}: no golden cases in {loaded.folder}/tests")
            failed += 1
        for r in results:
            total += 1
            status = "GEN " if r.generated else ("ok  " if r.ok else "FAIL")
            print(f"{status} {loaded.spec.id}/{r.case.name}")
            if not r.ok:
                failed += 1
                print("     " + r.detail.replace("\n", "\n     "))
    print(f"{total - failed} passed, {failed} failed")
    return 1 if failed else 0


def cmd_parsers_new(args: argparse.Namespace) -> int:
    from ucsiem.scaffold import scaffold

    folder = scaffold(args.id, args.dir)
    print(f"Created {folder}. Next: edit parser.py and tests/sample.log, then\n"
          f"  ucsiem parsers test {folder} --generate   # write the expected output, read it, commit it\n"
          f"  ucsiem parsers test {folder}")
    return 0


# -- rules ------------------------------------------------------------------------------------------


def shipped_rules() -> Path:
    """The UC rule pack: installed as the `ucsiem_rules` package, or ./rules beside ./ucsiem in a checkout."""
    import importlib

    try:
        module = importlib.import_module("ucsiem_rules")
    except ImportError:
        return Path(__file__).resolve().parent.parent / "rules"
    return Path(str(module.__file__)).parent


def _load_rules(args: argparse.Namespace) -> RuleSet | None:
    from ucsiem.correlate import RuleError, load_rules

    try:
        return load_rules(args.rules or [shipped_rules()])
    except RuleError as exc:
        print(f"ucsiem: {exc}", file=sys.stderr)
        return None


def cmd_rules_list(args: argparse.Namespace) -> int:
    ruleset = _load_rules(args)
    if ruleset is None:
        return 1
    rows = ruleset.summaries()
    if args.json:
        for r in rows:
            print(json.dumps({"id": r.id, "name": r.name, "title": r.title, "type": r.type, "level": r.level,
                              "source": r.source}, ensure_ascii=False))
        return 0
    print(f"{'ID':<36}  {'TYPE':<16} {'LEVEL':<13} TITLE  [FILE]")
    for r in rows:
        print(f"{r.id:<36}  {r.type:<16} {r.level or '-':<13} {r.title}  [{r.source}]")
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    from collections import Counter

    from ucsiem.correlate import Correlator, Detector

    ruleset = _load_rules(args)
    if ruleset is None:
        return 1
    detector, correlator = Detector(ruleset), Correlator(ruleset)
    out = sys.stdout.buffer
    ids: dict[str, str] = {}  # alert id -> rule title
    status = 0
    events = unreadable = emitted = 0

    def emit(alerts: list[dict[str, Any]]) -> None:
        nonlocal emitted
        for alert in alerts:
            out.write(terminal_safe(orjson.dumps(alert)) + b"\n")
            ids[str(alert["event"]["id"])] = str(alert["rule"].get("name"))  # re-emissions keep their id
            emitted += 1

    for path in args.events:
        try:
            data_file = path.open("rb")
        except OSError as exc:
            print(f"ucsiem: cannot read {path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        with data_file:
            for line in data_file:
                if not line.strip():
                    continue
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError:
                    event = None
                if not isinstance(event, dict):
                    unreadable += 1
                    continue
                events += 1
                emit(correlator.feed(detector.detect(event)))
    emit(correlator.flush())
    out.flush()
    print(json.dumps({"rules": len(ruleset.detections) + len(ruleset.correlations), "events": events,
                      "unreadable_lines": unreadable, "hits": correlator.counters["hits"],
                      "late": correlator.counters["late"], "alert_documents": emitted,
                      "alerts": len(ids), "by_rule": dict(Counter(ids.values()))},
                     ensure_ascii=False), file=sys.stderr)
    return status


def cmd_correlate(args: argparse.Namespace) -> int:
    """The correlation engine over Kafka (ucsiem/correlate/scaleout_kafka.py); SIGTERM/SIGINT stop it cleanly."""
    import asyncio
    import signal

    from ucsiem.correlate.scaleout_config import load_scaleout_config

    cfg = load_scaleout_config(args.config)
    if args.check:
        for message in cfg.deprecations:
            print(f"ucsiem: WARNING: {message}", file=sys.stderr)
        print(f"{args.config}: OK")
        return 0
    setup_logging(cfg.log_level)
    for message in cfg.deprecations:
        log.warning(message)
    from ucsiem.correlate.scaleout_kafka import serve

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await serve(cfg, stop)

    print(json.dumps(asyncio.run(main())), file=sys.stderr)
    return 0


def cmd_mappings(args: argparse.Namespace) -> int:
    from ucsiem.schema.compile import COMPILED, render_compiled
    from ucsiem.schema.generate import check, generate

    if args.action == "generate":
        for path in generate(args.out):
            print(f"wrote {path}")
        COMPILED.write_text(render_compiled())  # the hot path's Structs, in the package
        print(f"wrote {COMPILED}")
        return 0
    drift = check(args.out)
    if COMPILED.read_text() != render_compiled():
        drift.append(f"differs: {COMPILED}")
    for line in drift:
        print(line)
    print("mappings are up to date" if not drift else f"{len(drift)} file(s) drifted: run `ucsiem mappings generate`")
    return 1 if drift else 0


def cmd_docs(args: argparse.Namespace) -> int:
    from ucsiem.config_docs import check, generate

    try:
        problems = generate(args.readme) if args.action == "generate" else check(args.readme)
    except OSError as exc:
        raise UcsiemError(f"{args.readme}: {exc.strerror}") from None
    for line in problems:
        print(line)
    if args.action == "generate":
        if not problems:
            print(f"wrote the configuration reference in {args.readme}")
    else:
        print("the configuration reference is up to date" if not problems
              else f"{len(problems)} problem(s): run `ucsiem docs generate`")
    return 1 if problems else 0


def cmd_setup(args: argparse.Namespace) -> int:
    import asyncio

    from ucsiem.outputs.registry import SetupContext, spec_for

    config = load_config(args.config)
    spec = spec_for(args.target)
    targets = [o for o in config.outputs if o.type == spec.type]
    if not targets or spec.setup is None:
        raise ConfigError(str(args.config), [f"outputs: no output of type {args.target} to set up"])
    for line in [*config.deprecations, *security_warnings(config, only=spec.type)]:
        print(f"ucsiem: WARNING: {line}", file=sys.stderr)
    context = SetupContext(source=str(args.config), replicas=args.replicas)
    for cfg in targets:
        print(asyncio.run(spec.setup(cfg, context)))
    return 0


def cmd_spool_status(args: argparse.Namespace) -> int:
    import sqlite3
    import time

    from ucsiem.spool.feed import queue_depth
    from ucsiem.spool.store import SpoolStore

    config = load_config(args.config)
    path = config.spool_path()
    if not config.spool.enabled:
        print(f"ucsiem: the spool is off in {args.config} (spool.enabled: false): batches go straight to the "
              "outputs" + (f"; {path} is left from when it was on" if path.exists() else ""), file=sys.stderr)
    if not path.exists():
        print(orjson.dumps({"spool": str(path), "enabled": config.spool.enabled, "exists": False}).decode())
        return 0
    store = SpoolStore(path, None, readonly=True)
    try:  # an agent starting right now may have made the file and not yet its tables: an empty spool
        batches, cursors, quarantined = ((store.batches(), store.cursors(), store.quarantined()) if store.created()
                                         else ([], {}, []))
    except sqlite3.Error as exc:
        raise SpoolError(f"spool {path}: cannot read it: {exc}") from None
    finally:
        store.close()
    oldest = min((b.created for b in batches), default=None)
    report = {"spool": str(path), "enabled": config.spool.enabled, "batches": len(batches),
              "events": sum(b.events for b in batches), "bytes": sum(b.bytes for b in batches),
              "max_bytes": config.spool.max_bytes,
              "oldest_age_secs": round(time.time() - oldest, 1) if oldest is not None else None,
              "outputs": queue_depth(batches, cursors),
              # damaged batches (failed authentication) kept aside: never delivered, for a person to examine
              "quarantined": {"batches": len(quarantined), "events": sum(b.events for b in quarantined)}}
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    return 0


def cmd_spool_keygen(args: argparse.Namespace) -> int:
    from ucsiem.spool.crypto import write_new_key

    try:
        write_new_key(args.path)
    except FileExistsError:
        raise UcsiemError(f"{args.path} exists; a key is never overwritten (spooled data would be lost)") from None
    print(f"wrote a new AES-256 key to {args.path} (mode 0600); set spool.encryption_key_file to it")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ucsiem.status import metrics_url, report

    url = args.url.rstrip("/") if args.url else metrics_url(load_config(args.config or DEFAULT_CONFIG))
    ready, lines = report(url, args.timeout)
    print("\n".join(lines))
    return 0 if ready else 1


def cmd_test_output(args: argparse.Namespace) -> int:
    import asyncio

    from ucsiem.outputs.probe import probe_outputs

    config = load_config(args.config)
    registry = _prepare(config)
    for line in [*config.deprecations, *security_warnings(config)]:
        print(f"ucsiem: WARNING: {line}", file=sys.stderr)
    from ucsiem.outputs.registry import spec_for

    libraries = {name for out in config.outputs for name in spec_for(out).loggers}
    for name in sorted(libraries | {"ucsiem.output"}):  # each output's line says it
        quiet = logging.getLogger(name)
        quiet.addHandler(logging.NullHandler())
        quiet.propagate = False
    probes = asyncio.run(probe_outputs(config, registry, args.timeout))
    for probe in probes:
        print(probe.line())
    return 0 if all(p.ok for p in probes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
