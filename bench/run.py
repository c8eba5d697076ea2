"""Roomcast's benchmark harness: the same tiny room app on each peer, side by side.

    make bench                                   # every scenario, 3 runs each
    python bench/run.py --quick                  # one short run of each scenario
    python bench/run.py --scenarios fanout --peers roomcast,node-socketio

Each run starts one server pinned to CPU 0 and one load generator (a Node script in
bench/scenarios/, raw Engine.IO/Socket.IO over `ws`) pinned to CPU 1. The generator
prints START and END around its measured window; the harness samples the server's CPU
time and RSS at both. Peers run in turn (A, B, C, A, B, C, ...). A run that lost or
reordered anything is reported as failed, not as fast. Medians go to
bench/results/<date>.json and .md, with ratios that say how many times better Roomcast
is than each peer (higher is better, whichever way the metric points).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
# Peers that cannot share Roomcast's environment (Flask-SocketIO, gevent) live in bench/.venv.
PEER_PYTHON = str(BENCH / ".venv" / "bin" / "python")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024

PEERS: dict[str, list[str]] = {
    "roomcast": [PYTHON, str(BENCH / "peers" / "roomcast_app.py"), "0"],
    "node-socketio": ["node", str(BENCH / "peers" / "node_socketio.cjs"), "0"],
    "python-socketio": [PYTHON, str(BENCH / "peers" / "python_socketio.py"), "0"],
    "flask-socketio-gevent": [
        PEER_PYTHON,
        str(BENCH / "peers" / "flask_socketio_app.py"),
        "0",
        "gevent",
    ],
    "flask-socketio-threading": [
        PEER_PYTHON,
        str(BENCH / "peers" / "flask_socketio_app.py"),
        "0",
        "threading",
    ],
}


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    digits: int = 0


@dataclass(frozen=True)
class Scenario:
    """One load generator and the cases it runs; ``derive`` adds metrics from samples."""

    name: str
    title: str
    script: str
    cases: dict[str, list[str]]
    quick_cases: dict[str, list[str]]
    metrics: tuple[Metric, ...]
    derive: Callable[[dict[str, Any]], None] = lambda run: None
    peers: tuple[str, ...] = ()  # empty: every peer
    server: dict[str, list[str]] = field(default_factory=dict)  # per-peer command override
    # False: server and generator are not pinned to a CPU each (a server of several
    # processes needs both cores; it then competes with the generator for them).
    pinned: bool = True


def _rss_per_connection(run: dict[str, Any]) -> None:
    connections = run.get("connections") or 0
    if connections:
        grown = run["server_rss_end_kib"] - run["server_rss_start_kib"]
        run["kib_per_connection"] = grown / connections


def _cost_per_delivery(run: dict[str, Any]) -> None:
    if run.get("deliveries") and run.get("server_cpu_s"):
        run["server_us_per_delivery"] = 1e6 * run["server_cpu_s"] / run["deliveries"]


WORKERS = [PYTHON, str(BENCH / "peers" / "roomcast_workers.py")]

DELIVERIES = Metric("deliveries_per_s", "deliveries/s", "/s", higher_is_better=True)
COST = Metric("server_us_per_delivery", "server CPU per delivery", "us", False, digits=2)

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "fanout",
            "Fan-out, one room, 200-byte messages",
            "fanout.cjs",
            cases={
                f"{n} receivers": ["--receivers", str(n), "--seconds", "4"]
                for n in (10, 100, 1000, 5000)
            },
            quick_cases={
                f"{n} receivers": ["--receivers", str(n), "--seconds", "2"] for n in (100, 1000)
            },
            metrics=(DELIVERIES, COST),
            derive=_cost_per_delivery,
        ),
        Scenario(
            "latency",
            "End-to-end latency at a fixed rate, 100 receivers, 200-byte messages",
            "latency.cjs",
            cases={
                f"{rate:,} deliveries/s": [
                    "--receivers", "100", "--rate", str(rate), "--seconds", "6"
                ]
                for rate in (5000, 50000)
            },
            quick_cases={
                f"{rate:,} deliveries/s": [
                    "--receivers", "100", "--rate", str(rate), "--seconds", "3"
                ]
                for rate in (5000, 50000)
            },
            metrics=(
                Metric("p50_ms", "p50", "ms", higher_is_better=False, digits=2),
                Metric("p99_ms", "p99", "ms", higher_is_better=False, digits=2),
                Metric("p999_ms", "p99.9", "ms", higher_is_better=False, digits=2),
            ),
        ),
        Scenario(
            "idle",
            "Idle connections: set-up rate, memory, round trip while idle",
            "idle.cjs",
            cases={
                f"{n:,} connections": ["--connections", str(n)] for n in (1000, 5000, 10000)
            },
            quick_cases={f"{n:,} connections": ["--connections", str(n)] for n in (1000,)},
            metrics=(
                Metric("connections_per_s", "set-up", "/s", higher_is_better=True),
                Metric("kib_per_connection", "RSS per connection", "KiB", False, digits=1),
                Metric("rtt_p50_ms", "round trip p50", "ms", higher_is_better=False, digits=2),
                Metric("rtt_p99_ms", "round trip p99", "ms", higher_is_better=False, digits=2),
            ),
            derive=_rss_per_connection,
        ),
        Scenario(
            "rooms",
            "Many small rooms: 10,000 rooms of 3 (1,000 connections in 30 rooms each)",
            "rooms.cjs",
            cases={
                "10,000 rooms of 3": [
                    "--rooms", "10000", "--members", "3", "--connections", "1000",
                    "--seconds", "4",
                ]
            },
            quick_cases={
                "10,000 rooms of 3": [
                    "--rooms", "10000", "--members", "3", "--connections", "1000",
                    "--seconds", "2",
                ]
            },
            metrics=(DELIVERIES,),
        ),
        Scenario(
            "durable",
            "Durable chat sends into SQLite, acked, 100 concurrent senders (Roomcast only)",
            "durable.cjs",
            cases={"100 senders": ["--senders", "100", "--seconds", "5"]},
            quick_cases={"100 senders": ["--senders", "100", "--seconds", "3"]},
            metrics=(
                Metric("sends_per_s", "acked sends/s", "/s", higher_is_better=True),
                Metric("ack_p50_ms", "ack p50", "ms", higher_is_better=False, digits=2),
                Metric("ack_p99_ms", "ack p99", "ms", higher_is_better=False, digits=2),
            ),
            peers=("roomcast",),
            server={"roomcast": [PYTHON, str(BENCH / "peers" / "roomcast_chat.py"), "0"]},
        ),
        Scenario(
            "slow-clients",
            "Slow clients: latency to 20 healthy members, 100 broadcasts/s of 16 KiB, "
            "without and with members that never read (Roomcast only)",
            "slow_clients.cjs",
            cases={
                f"{k} stuck": ["--receivers", "20", "--stuck", str(k), "--seconds", "8"]
                for k in (5, 20)
            },
            quick_cases={"5 stuck": ["--receivers", "20", "--stuck", "5", "--seconds", "8"]},
            metrics=(
                Metric("p50_none_ms", "p50 without", "ms", higher_is_better=False, digits=2),
                Metric("p50_stuck_ms", "p50 with", "ms", higher_is_better=False, digits=2),
                Metric("p50_ratio", "p50 with / without", "x", False, digits=2),
                Metric("p99_none_ms", "p99 without", "ms", higher_is_better=False, digits=2),
                Metric("p99_stuck_ms", "p99 with", "ms", higher_is_better=False, digits=2),
                Metric("p99_ratio", "p99 with / without", "x", False, digits=2),
                Metric("dropped", "stuck ones dropped", "n", higher_is_better=True),
            ),
            peers=("roomcast",),
        ),
        Scenario(
            "workers",
            "roomcast serve --workers 1 vs 2: chat fan-out through SQLite and Redis, one room",
            "fanout_chat.cjs",
            # 256 broadcasts in flight: enough that the store's commit time does not set the pace.
            cases={"1000 receivers": ["--receivers", "1000", "--window", "256", "--seconds", "4"]},
            quick_cases={
                "1000 receivers": ["--receivers", "1000", "--window", "256", "--seconds", "2"]
            },
            metrics=(DELIVERIES, COST),
            derive=_cost_per_delivery,
            peers=("roomcast-1-worker", "roomcast-2-workers"),
            server={
                "roomcast-1-worker": [*WORKERS, "1"],
                "roomcast-2-workers": [*WORKERS, "2"],
            },
            pinned=False,
        ),
    )
}  # fmt: skip


#: Cases a peer is not run in, and why (shown under the table).
SKIPPED: dict[str, tuple[set[str], str]] = {
    "flask-socketio-threading": (
        {"5000 receivers", "5,000 connections", "10,000 connections"},
        "Werkzeug's threaded server runs four threads per connection; thousands of "
        "connections mean tens of thousands of threads on a two-core machine",
    ),
}


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants: a server of several processes is measured whole."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:  # it ended meanwhile
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in _family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return total


def _rss_kib(pid: int) -> int:
    total = 0
    for member in _family(pid):
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1]) * PAGE_KIB
        except OSError:
            continue
    return total


def _pinned(cpu: int, command: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if (os.cpu_count() or 1) > 1 else command


def _profiled(command: list[str], profile: Path) -> list[str]:
    """``command`` under py-spy, sampling every thread into ``profile`` (collapsed stacks)."""
    py_spy = str(BENCH / ".venv" / "bin" / "py-spy")
    return [py_spy, "record", "--threads", "--format", "raw", "-r", "200", "-o", str(profile),
            "--", *command]  # fmt: skip


def run_once(
    server_command: list[str],
    script: str,
    script_args: list[str],
    profile: Path | None = None,
    pinned: bool = True,
) -> dict[str, Any]:
    """Start the server, run one load generator against it, return what both measured."""
    if profile is not None:
        server_command = _profiled(server_command, profile)
    server = subprocess.Popen(
        _pinned(0, server_command) if pinned else server_command,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_raise_fd_limit,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        while line.startswith("py-spy>") or line == "\n":  # the profiler's own words
            line = server.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"{server_command} did not start: {line!r}")
        port = line.split()[1]
        generator = ["node", str(BENCH / "scenarios" / script), "--port", port, *script_args]
        loadgen = subprocess.Popen(
            _pinned(1, generator) if pinned else generator,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_raise_fd_limit,
        )
        assert loadgen.stdout is not None
        samples: dict[str, Any] = {}
        result: dict[str, Any] = {}
        for out in loadgen.stdout:
            out = out.strip()
            if out in ("START", "END"):
                tag = out.lower()
                samples[f"server_cpu_{tag}"] = _cpu_seconds(server.pid)
                samples[f"server_rss_{tag}_kib"] = _rss_kib(server.pid)
                samples[f"t_{tag}"] = time.monotonic()
            elif out.startswith("{"):
                result = json.loads(out)
        loadgen.wait(120)
        if "t_end" in samples:
            result["server_cpu_s"] = samples["server_cpu_end"] - samples["server_cpu_start"]
            result["wall_s"] = samples["t_end"] - samples["t_start"]
            result["server_rss_start_kib"] = samples["server_rss_start_kib"]
            result["server_rss_end_kib"] = samples["server_rss_end_kib"]
        result["failed"] = (
            bool(result.get("error") or result.get("lost") or result.get("reordered"))
            or "t_end" not in samples
        )
        return result
    finally:
        # py-spy writes its profile when the server it runs ends, on SIGINT.
        server.send_signal(signal.SIGINT if profile is not None else signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if not run["failed"] and run.get(key) is not None]
    return statistics.median(values) if values else None


def ratio(metric: Metric, ours: float | None, theirs: float | None) -> float | None:
    """How many times better Roomcast is than a peer on ``metric`` (> 1: Roomcast ahead)."""
    if not ours or not theirs:
        return None
    return ours / theirs if metric.higher_is_better else theirs / ours


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per scenario, case, peer and metric: the medians the table and chart show."""
    rows = []
    for name, cases in results["scenarios"].items():
        scenario = SCENARIOS[name]
        for case, by_peer in cases.items():
            for metric in scenario.metrics:
                ours = median(by_peer.get("roomcast", []), metric.key)
                for peer, runs in by_peer.items():
                    value = median(runs, metric.key)
                    rows.append(
                        {
                            "scenario": name,
                            "case": case,
                            "peer": peer,
                            "metric": metric.key,
                            "label": metric.label,
                            "unit": metric.unit,
                            "higher_is_better": metric.higher_is_better,
                            "median": value,
                            "ratio": 1.0 if peer == "roomcast" else ratio(metric, ours, value),
                            "failed_runs": sum(run["failed"] for run in runs),
                            "runs": len(runs),
                        }
                    )
    return rows


def _cpu_percent(runs: list[dict[str, Any]], key: str) -> str:
    wall = median(runs, "wall_s")
    used = median(runs, key)
    return f"{100 * used / wall:.0f}" if wall and used is not None else "-"


def _format(metric: Metric, value: float | None) -> str:
    return "-" if value is None else f"{value:,.{metric.digits}f}"


def markdown(results: dict[str, Any], stamp: str) -> str:
    lines = [
        f"# Benchmark {stamp}",
        "",
        "Medians of runs alternating between peers; server on CPU 0, load generator on CPU 1. "
        "(n x) is how many times better Roomcast is than that peer on that metric. Failed runs "
        "(lost, reordered or errored) are left out of the medians.",
    ]
    for name, cases in results["scenarios"].items():
        scenario = SCENARIOS[name]
        head = [f"{m.label} ({m.unit})" for m in scenario.metrics]
        lines += [
            "",
            f"## {scenario.title}",
            "",
            "| case | peer | " + " | ".join(head) + " | server CPU % | loadgen CPU % | failed |",
            "|---|---|" + "---:|" * (len(head) + 3),
        ]
        for case, by_peer in cases.items():
            for peer, runs in by_peer.items():
                cells = []
                for metric in scenario.metrics:
                    value = median(runs, metric.key)
                    cell = _format(metric, value)
                    if peer != "roomcast" and value is not None:
                        better = ratio(
                            metric, median(by_peer.get("roomcast", []), metric.key), value
                        )
                        cell += f" ({better:.2f} x)" if better else ""
                    cells.append(cell)
                failed = sum(run["failed"] for run in runs)
                lines.append(
                    f"| {case} | {peer} | "
                    + " | ".join(cells)
                    + f" | {_cpu_percent(runs, 'server_cpu_s')} "
                    + f"| {_cpu_percent(runs, 'loadgen_cpu_s')} | {failed}/{len(runs)} |"
                )
    skipped = [
        f"- {peer}: not run with {', '.join(sorted(cases))}: {why}."
        for peer, (cases, why) in SKIPPED.items()
    ]
    if skipped:
        lines += ["", *skipped]
    return "\n".join(lines) + "\n"


def write_report(results: dict[str, Any], stamp: str) -> Path:
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    results["summary"] = summarize(results)
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    path = out / f"{stamp}.md"
    path.write_text(markdown(results, stamp))
    return path


def available_peers() -> list[str]:
    return [
        peer for peer, command in PEERS.items() if Path(command[0]).exists() or command[0] == "node"
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--peers", default=None, help="comma-separated; default: all installed")
    parser.add_argument("--quick", action="store_true", help="one short run of fewer cases")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run Roomcast under py-spy; profiles go next to the results",
    )
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    peers = args.peers.split(",") if args.peers else available_peers()
    results: dict[str, Any] = {"scenarios": {}}
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H%M")
    (BENCH / "results").mkdir(exist_ok=True)
    for name in args.scenarios.split(","):
        scenario = SCENARIOS[name]
        cases = scenario.quick_cases if args.quick else scenario.cases
        these = [peer for peer in peers if not scenario.peers or peer in scenario.peers]
        # Variants of Roomcast that only this scenario runs (e.g. --workers 1 and 2).
        if "roomcast" in peers:
            these += [peer for peer in scenario.peers if peer not in PEERS]
        results["scenarios"][name] = {}
        for case, script_args in cases.items():
            running = [p for p in these if case not in SKIPPED.get(p, (set(), ""))[0]]
            by_peer: dict[str, list[dict[str, Any]]] = {peer: [] for peer in running}
            for _ in range(runs):
                for peer in running:
                    command = scenario.server.get(peer) or PEERS[peer]
                    profile = None
                    if args.profile and peer == "roomcast":
                        slug = case.replace(",", "").replace(" ", "-")
                        profile = BENCH / "results" / f"{stamp}-{name}-{slug}-roomcast.txt"
                    run = run_once(command, scenario.script, script_args, profile, scenario.pinned)
                    scenario.derive(run)
                    run.update(peer=peer, case=case)
                    by_peer[peer].append(run)
                    print(json.dumps(run), file=sys.stderr, flush=True)
            results["scenarios"][name][case] = by_peer
    report = write_report(results, stamp)
    print(report.read_text())
    if Path(PEER_PYTHON).exists():  # the chart needs matplotlib, in bench/.venv
        subprocess.run([PEER_PYTHON, str(BENCH / "chart.py"), str(report.with_suffix(".json"))])
    return 0


if __name__ == "__main__":
    sys.exit(main())
