#!/usr/bin/env python3
"""Syslog ingest into the file output, over TCP and UDP, beside syslog-ng and rsyslog (not a test).

    python bench/syslog_bench.py [--lines 200000] [--rounds 3] [--workers auto] [--spool]
                                 [--syslog-ng PATH] [--cases agent-tcp,agent-udp,...]

The shared Expressway corpus (`bench/run_bench.py` `corpus()`, the same generator and seed as the other
benchmarks) is sent as an appliance sends it: `<134>` + each line (RFC 3164 with an ISO time), over one
TCP connection, newline framed, as fast as the receiver takes it, or as UDP datagrams as fast as Python
sends them. Cases, each a fresh receiver per round on a free loopback port:

* `agent-tail`: the running agent tailing a file the same lines are appended to as fast as they can be
  written, timed like the network cases from the first byte to the last line out;
* `agent-file`: `ucsiem run --once` reading the same lines from a file (its whole-run time includes the
  agent's start-up and shutdown, about 1.5 s);
* `agent-tcp`, `agent-udp`: the agent's syslog input (route: cisco_expressway) into the file output;
* `syslog-ng-tcp`, `syslog-ng-udp`: syslog-ng's `network()` source into a `file()`, default template (no
  parsing), flow control on; `syslog-ng-tcp-kv`: the same with `kv-parser` and `format-json` per line
  (close to the agent's work: parse the key-values, write JSON);
* `rsyslog-tcp`: rsyslogd's `imtcp` into `omfile` (no parsing).

The clock runs from the first byte sent to the last line written (the output file is watched). For UDP,
what the receiver got is counted and the rest reported lost (the kernel drops datagrams a receiver
does not read in time; neither syslog daemon nor the agent can slow a UDP sender): lines/s is then what
was written per second. Peak RSS is the receiver's process tree (agent and its parse workers).

syslog-ng: `--syslog-ng` or `syslog-ng` on PATH; Debian's syslog-ng-core conflicts with rsyslog (the
forwarder test's sender), so it may be unpacked beside it instead:
`apt-get download syslog-ng-core && dpkg-deb -x syslog-ng-core_*.deb /opt/syslog-ng-x` (needs libivykis0
and libnet1), then `--syslog-ng /opt/syslog-ng-x/usr/sbin/syslog-ng`. Cases whose daemon is missing are
left out and say so. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run_bench import (
    CHUNK,
    STEADY_FROM,
    STEADY_TO,
    LineCounter,
    corpus,
    measure_steady,
    steady_rate,
    tree_cpu_secs,
    tree_rss_kib,
)

HOST = "127.0.0.1"
PRI = b"<134>"
QUIET_SECS = 10.0  # UDP: no new line this long after the sender has finished: the rest was lost
ALL_CASES = ["agent-tail", "agent-file", "agent-tcp", "agent-udp", "syslog-ng-tcp", "syslog-ng-tcp-kv", "syslog-ng-udp",
             "rsyslog-tcp"]


@dataclass
class Result:
    seconds: float
    received: int
    peak_rss_kib: int
    cpu_secs: float | None = None  # the whole tree's
    receiver_cpu_secs: float | None = None  # the root process's alone (the agent's loop; the rest: its workers)
    dropped_by_agent: int = 0  # UDP: what the agent counted as dropped (the rest of the loss is the kernel's)
    steady: float | None = None  # lines/s between 10 % and 90 % of the lines out (see `steady_rate`)


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def udp_bound(port: int) -> bool:
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(row.split()[1].endswith(f":{port:04X}") for row in rows):
            return True
    return False


def tcp_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.05)


def payload(log: Path) -> bytes:
    data = log.read_bytes()
    return PRI + data.rstrip(b"\n").replace(b"\n", b"\n" + PRI) + b"\n"


def send_tcp(port: int, data: bytes) -> None:
    with socket.create_connection((HOST, port)) as sock:
        view = memoryview(data)
        for at in range(0, len(view), CHUNK):
            sock.sendall(view[at:at + CHUNK])


def send_udp(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        target = (HOST, port)
        for datagram in data.splitlines():
            sock.sendto(datagram, target)


def run_receiver(cmd: list[str], *, env: dict[str, str] | None, ready: Callable[[], bool], output: Path,
                 expected: int, send: Callable[[], None], udp: bool, cwd: Path) -> Result:
    log = (cwd / "receiver.log").open("ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        wait(lambda: proc.poll() is None and ready(), 60, f"{cmd[0]} to listen (see {cwd}/receiver.log)")
        cpu_before = tree_cpu_secs(proc.pid)  # start-up is not counted, as it is not in the time
        counter = LineCounter(output)
        t0 = time.perf_counter()
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        last, last_change = 0, time.perf_counter()
        sender_done: float | None = None
        samples: list[tuple[float, int]] = []
        while True:
            got = counter.poll()
            now = time.perf_counter()
            if got != last:
                last, last_change = got, now
                samples.append((now, got))
            if got >= expected:
                break
            if proc.poll() is not None:
                sys.exit(f"{cmd[0]} exited with {proc.returncode}; see {cwd}/receiver.log")
            if udp and sender_done is None and not sender.is_alive():
                sender_done = now
            if udp and sender_done is not None and now - max(last_change, sender_done) > QUIET_SECS:
                break  # the rest was dropped (the first batch may take seconds: parse workers starting)
            if now - last_change > 120:
                sys.exit(f"{cmd[0]}: no progress for 120 s at {got} of {expected} lines")
            time.sleep(0.02)
        seconds = last_change - t0
        cpu_after = tree_cpu_secs(proc.pid)  # before the shutdown: what the lines cost
        sender.join()
    finally:
        done.set()
        sampler.join()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
    spent = {pid: secs - cpu_before.get(pid, 0.0) for pid, secs in cpu_after.items()}
    return Result(seconds, last, peak, sum(spent.values()), spent.get(proc.pid, 0.0),
                  steady=None if udp else steady_rate(samples, expected))


def agent_case(work: Path, log: Path, data: bytes, lines: int, *, protocol: str, workers: str, spool: bool) -> Result:
    out = work / "out" / "events.ndjson"
    port = free_port(socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM)
    config = work / "config.yml"
    config.write_text(json.dumps({
        "agent": {"data_dir": str(work / "state"), "stats_interval_secs": 0},
        "inputs": [{"type": "syslog", "id": "bench", "default_parser": "cisco_expressway",
                    "listeners": [{"protocol": protocol, "address": HOST, "port": port}]}],
        "outputs": [{"type": "file", "path": str(out), "max_bytes": 1 << 40}],
        "spool": {"enabled": spool},
        "pipeline": {"workers": workers if workers == "auto" else int(workers)},
    }))
    agent_log = work / "receiver.log"
    result = run_receiver(
        [sys.executable, "-m", "ucsiem", "run", "--config", str(config)], env=None,
        ready=lambda: agent_log.exists() and b"Syslog listeners up" in agent_log.read_bytes(), output=out,
        expected=lines, send=(lambda: send_udp(port, data)) if protocol == "udp" else (lambda: send_tcp(port, data)),
        udp=protocol == "udp", cwd=work)
    for raw in agent_log.read_bytes().splitlines():
        if raw.startswith(b"{") and b'"Agent stopped."' in raw:
            listeners = json.loads(raw)["stats"].get("syslog", {}).get("bench", {})
            result.dropped_by_agent = sum(peer["dropped"] for listener in listeners.values()
                                          for peer in listener["peers"].values())
    return result


def file_input_config(work: Path, path: Path, workers: str) -> tuple[Path, Path]:
    """The agent's configuration reading `path` with the Expressway parser into the file output: (config,
    output)."""
    out = work / "out" / "events.ndjson"
    config = work / "config.yml"
    config.write_text(json.dumps({
        "agent": {"data_dir": str(work / "state"), "stats_interval_secs": 0},
        "inputs": [{"id": "bench", "paths": [str(path)], "parser": "cisco_expressway"}],
        "outputs": [{"type": "file", "path": str(out), "max_bytes": 1 << 40}],
        "pipeline": {"workers": workers if workers == "auto" else int(workers)},
    }))
    return config, out


def agent_tail_case(work: Path, log: Path, lines: int, *, workers: str) -> Result:
    """The reference: the running agent tails a file that an appliance's lines are appended to, as fast
    as they are written, timed like the network cases (first byte written to last line out): start-up is
    not counted in either."""
    target = work / "in" / "expressway.log"
    target.parent.mkdir()
    target.touch()
    config, out = file_input_config(work, target, workers)
    agent_log = work / "receiver.log"

    def append() -> None:
        with log.open("rb") as src, target.open("ab") as dst:
            while block := src.read(CHUNK):
                dst.write(block)
                dst.flush()

    return run_receiver(
        [sys.executable, "-m", "ucsiem", "run", "--config", str(config)], env=None,
        ready=lambda: agent_log.exists() and b"Agent started." in agent_log.read_bytes(), output=out,
        expected=lines, send=append, udp=False, cwd=work)


def agent_file_case(work: Path, log: Path, lines: int, *, workers: str) -> Result:
    config, out = file_input_config(work, log, workers)
    run = measure_steady([sys.executable, "-m", "ucsiem", "run", "--once", "--config", str(config)], out, lines)
    return Result(run.wall, run.lines_out, run.peak_kib, run.cpu, steady=run.steady)


SYSLOG_NG_CONF = """@version: 3.38
options {{ stats-freq(0); mark-freq(0); keep-hostname(yes); chain-hostnames(no); use-dns(no); dns-cache(no); }};
source s_net {{ network(ip("{host}") port({port}) transport("{transport}") log-iw-size(100000)); }};
{parser}
destination d_out {{ file("{out}"{template}); }};
log {{ source(s_net); {use_parser} destination(d_out); flags(flow-control); }};
"""
KV_TEMPLATE = ' template("$(format-json --key ISODATE --key HOST --key PROGRAM --key kv.*)\\n")'


def syslog_ng_case(binary: Path, work: Path, data: bytes, lines: int, *, transport: str, kv: bool) -> Result:
    out = work / "out.log"
    port = free_port(socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM)
    conf = work / "syslog-ng.conf"
    conf.write_text(SYSLOG_NG_CONF.format(
        host=HOST, port=port, transport=transport, out=out,
        parser='parser p_kv { kv-parser(prefix("kv.")); };' if kv else "", use_parser="parser(p_kv);" if kv else "",
        template=KV_TEMPLATE if kv else ""))
    root = binary.resolve().parents[2]  # <root>/usr/sbin/syslog-ng
    env = dict(os.environ)
    modules: list[str] = []
    if (root / "usr" / "lib" / "syslog-ng").is_dir() and root != Path("/"):  # unpacked, not installed
        env["LD_LIBRARY_PATH"] = str(root / "usr" / "lib" / "syslog-ng")
        modules = [f"--module-path={root / 'usr' / 'lib' / 'syslog-ng' / '3.38'}"]
    cmd = [str(binary), "-F", "--no-caps", f"--cfgfile={conf}", f"--pidfile={work / 'sng.pid'}",
           f"--control={work / 'sng.ctl'}", f"--persist-file={work / 'sng.persist'}", *modules]
    return run_receiver(cmd, env=env, ready=(lambda: udp_bound(port)) if transport == "udp" else lambda: tcp_open(port),
                        output=out, expected=lines,
                        send=(lambda: send_udp(port, data)) if transport == "udp" else (lambda: send_tcp(port, data)),
                        udp=transport == "udp", cwd=work)


def rsyslog_case(binary: Path, work: Path, data: bytes, lines: int) -> Result:
    out = work / "out.log"
    port = free_port(socket.SOCK_STREAM)
    conf = work / "rsyslog.conf"
    (work / "rs").mkdir()
    conf.write_text(f"""global(workDirectory="{work / 'rs'}")
module(load="imtcp")
input(type="imtcp" address="{HOST}" port="{port}" ruleset="bench")
ruleset(name="bench") {{ action(type="omfile" file="{out}") }}
""")
    cmd = [str(binary), "-n", "-f", str(conf), "-i", str(work / "rsyslogd.pid")]
    return run_receiver(cmd, env=None, ready=lambda: tcp_open(port), output=out, expected=lines,
                        send=lambda: send_tcp(port, data), udp=False, cwd=work)


def ratio(ours: list[Result], theirs: list[Result], rate: Callable[[Result], float | None]) -> str:
    a = [x for x in map(rate, ours) if x]
    b = [x for x in map(rate, theirs) if x]
    return f"{statistics.median(a) / statistics.median(b):.0%}" if a and b else "-"


def cpu_text(result: Result) -> str:
    if result.cpu_secs is None or not result.received:
        return ""
    per_line = 1e6 / result.received
    if result.receiver_cpu_secs is None:  # run --once: start-up and shutdown included
        return f", {result.cpu_secs * per_line:.0f} CPU-µs/line (start-up included)"
    return (f", {result.cpu_secs * per_line:.0f} CPU-µs/line = {result.receiver_cpu_secs * per_line:.0f} receiver "
            f"+ {(result.cpu_secs - result.receiver_cpu_secs) * per_line:.0f} workers")


def cpu_median(runs: list[Result]) -> str:
    timed = [r for r in runs if r.cpu_secs is not None and r.received]
    if not timed:
        return ""
    tree = statistics.median(r.cpu_secs / r.received * 1e6 for r in timed if r.cpu_secs is not None)
    own = [r.receiver_cpu_secs / r.received * 1e6 for r in timed if r.receiver_cpu_secs is not None]
    if not own:
        return f"{tree:.0f} (start-up included)"
    return f"{tree:.0f} = {statistics.median(own):.0f} + {tree - statistics.median(own):.0f}"


def find(explicit: str | None, name: str) -> Path | None:
    if explicit:
        return Path(explicit)
    found = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None)
    return Path(found) if found else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", default="auto")
    ap.add_argument("--spool", action="store_true", help="the agent's network cases with the spool on")
    ap.add_argument("--syslog-ng", dest="syslog_ng", help="syslog-ng binary (default: on PATH)")
    ap.add_argument("--rsyslogd", help="rsyslogd binary (default: on PATH or /usr/sbin)")
    ap.add_argument("--cases", default=",".join(ALL_CASES))
    args = ap.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(cases) - set(ALL_CASES)
    if unknown:
        sys.exit(f"unknown cases {sorted(unknown)}; known: {', '.join(ALL_CASES)}")
    sng, rsy = find(args.syslog_ng, "syslog-ng"), find(args.rsyslogd, "rsyslogd")
    missing = [c for c in cases
               if (c.startswith("syslog-ng") and sng is None) or (c.startswith("rsyslog") and rsy is None)]
    for case in missing:
        print(f"{case}: left out (daemon not found)", file=sys.stderr)
    cases = [c for c in cases if c not in missing]
    log = corpus("expressway", args.lines)
    data = payload(log)
    results: dict[str, list[Result]] = {c: [] for c in cases}
    for round_no in range(args.rounds):
        for case in cases:
            work = Path(tempfile.mkdtemp(prefix=f"ucsiem-syslog-bench-{case}-"))
            try:
                if case == "agent-tail":
                    result = agent_tail_case(work, log, args.lines, workers=args.workers)
                elif case == "agent-file":
                    result = agent_file_case(work, log, args.lines, workers=args.workers)
                elif case.startswith("agent-"):
                    result = agent_case(work, log, data, args.lines, protocol=case.split("-")[1],
                                        workers=args.workers, spool=args.spool)
                elif case.startswith("syslog-ng"):
                    assert sng is not None
                    result = syslog_ng_case(sng, work, data, args.lines, transport=case.split("-")[2],
                                            kv=case.endswith("-kv"))
                else:
                    assert rsy is not None
                    result = rsyslog_case(rsy, work, data, args.lines)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            if not case.endswith("udp") and result.received != args.lines:
                sys.exit(f"{case}: {result.received} lines written for {args.lines} sent")
            results[case].append(result)
            steady = f" (steady {result.steady:,.0f})" if result.steady else ""
            print(f"round {round_no + 1} {case}: {result.received / result.seconds:,.0f} lines/s{steady}, "
                  f"{result.received:,} of {args.lines:,} (dropped by the agent: {result.dropped_by_agent:,}), "
                  f"peak RSS {result.peak_rss_kib / 1024:.0f} MiB{cpu_text(result)}", file=sys.stderr)
    print(f"corpus: {log} ({args.lines:,} lines, {log.stat().st_size:,} bytes); workers={args.workers}; "
          f"spool={'on' if args.spool else 'off'}; cpus={os.cpu_count()}; rounds={args.rounds}")
    print(f"{'case':<18} {'lines/s (median, min-max)':<30} {'steady lines/s (median, min-max)':<34} "
          f"{'received':>12} {'peak RSS MiB (tree)':>20}  CPU-µs/line (median: tree = receiver + its workers)")
    for case, runs in results.items():
        rates = [r.received / r.seconds for r in runs]
        steadies = [r.steady for r in runs if r.steady]
        steady = (f"{statistics.median(steadies):>9,.0f} ({min(steadies):,.0f}-{max(steadies):,.0f})"
                  if steadies else f"{'-':>9}")
        received = min(r.received for r in runs)
        lost = f" ({1 - received / args.lines:.1%} lost)" if received < args.lines else ""
        print(f"{case:<18} {statistics.median(rates):>9,.0f} ({min(rates):,.0f}-{max(rates):,.0f}){'':<6} "
              f"{steady:<34} {received:>12,}{lost} {max(r.peak_rss_kib for r in runs) / 1024:>8.0f}  "
              f"{cpu_median(runs)}")
    if "agent-tcp" in results:
        print(f"agent TCP ingest against the agent reading the same lines from a file (steady: from "
              f"{STEADY_FROM:.0%} to {STEADY_TO:.0%} of the lines out; whole: first byte to last line):")
        for case, what in (("agent-tail", "tailing a file the lines are appended to"),
                           ("agent-file", "run --once over the finished file (whole: start-up counted)")):
            if case in results:
                whole = ratio(results["agent-tcp"], results[case], lambda r: r.received / r.seconds)
                steady = ratio(results["agent-tcp"], results[case], lambda r: r.steady)
                print(f"  / {what}: steady {steady}, whole {whole}")


if __name__ == "__main__":
    main()
