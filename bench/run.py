"""Roomcast's benchmark harness: the same room-broadcast app on each peer, side by side.

    make bench                       # every scenario, 3 runs each, peers alternating
    python bench/run.py --quick      # one run, fewer receivers

Each run starts one server pinned to CPU 0 and the load generator (bench/loadgen.cjs,
Node + ws) pinned to CPU 1, and records deliveries per second, the CPU time each side
used while measuring, and whether anything was lost or reordered (such a run is
reported as failed, not as fast). Peers run in turn (A, B, C, A, B, C, ...), and the
medians are written to bench/results/<date>.json and .md with ratios against Roomcast.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

PEERS: dict[str, list[str]] = {
    "roomcast": [PYTHON, str(BENCH / "peers" / "roomcast_app.py"), "0"],
    "node-socketio": ["node", str(BENCH / "peers" / "node_socketio.cjs"), "0"],
    "python-socketio": [PYTHON, str(BENCH / "peers" / "python_socketio.py"), "0"],
}


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _pinned(cpu: int, command: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if (os.cpu_count() or 1) > 1 else command


def run_once(peer: str, receivers: int, seconds: float, size: int) -> dict[str, Any]:
    server = subprocess.Popen(
        _pinned(0, PEERS[peer]), stdout=subprocess.PIPE, text=True, preexec_fn=_raise_fd_limit
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("READY"):
            raise RuntimeError(f"{peer} did not start: {line!r}")
        port = line.split()[1]
        loadgen = subprocess.Popen(
            _pinned(
                1,
                [
                    "node",
                    str(BENCH / "loadgen.cjs"),
                    "--port",
                    port,
                    "--receivers",
                    str(receivers),
                    "--seconds",
                    str(seconds),
                    "--size",
                    str(size),
                ],
            ),
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_raise_fd_limit,
        )
        assert loadgen.stdout is not None
        server_cpu = wall = 0.0
        result: dict[str, Any] = {}
        for out in loadgen.stdout:
            out = out.strip()
            if out == "START":
                cpu0, t0 = _cpu_seconds(server.pid), time.monotonic()
            elif out == "END":
                server_cpu, wall = _cpu_seconds(server.pid) - cpu0, time.monotonic() - t0
            elif out.startswith("{"):
                result = json.loads(out)
        loadgen.wait(120)
        result.update(peer=peer, server_cpu_s=server_cpu, wall_s=wall)
        result["failed"] = bool(
            result.get("error") or result.get("lost") or result.get("reordered")
        )
        return result
    finally:
        server.terminate()
        server.wait(20)
        if server.stdout is not None:
            server.stdout.close()


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run.get(key, 0.0) for run in runs)


def write_report(results: dict[str, Any], stamp: str) -> Path:
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        f"# Fan-out, one room, {results['size']}-byte messages ({stamp})",
        "",
        "Medians of runs alternating between peers; server on CPU 0, load generator on CPU 1.",
        "",
        "| receivers | peer | deliveries/s | Roomcast ratio | server CPU % | loadgen CPU % "
        "| failed runs |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for receivers, by_peer in results["fanout"].items():
        ours = median(by_peer["roomcast"], "deliveries_per_s")
        for peer, runs in by_peer.items():
            rate = median(runs, "deliveries_per_s")
            server = 100 * median(runs, "server_cpu_s") / max(median(runs, "wall_s"), 1e-9)
            loadgen = 100 * median(runs, "loadgen_cpu_s") / max(median(runs, "wall_s"), 1e-9)
            failed = sum(run["failed"] for run in runs)
            ratio = "1.00" if peer == "roomcast" else f"{ours / rate:.2f}" if rate else "n/a"
            lines.append(
                f"| {receivers} | {peer} | {rate:,.0f} | {ratio} | {server:.0f} | {loadgen:.0f} "
                f"| {failed}/{len(runs)} |"
            )
    path = out / f"{stamp}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--receivers", default="10,100,1000,5000")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--quick", action="store_true", help="one run of 100 and 1000 receivers")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.receivers, args.seconds = 1, "100,1000", 3.0
    peers = args.peers.split(",")
    results: dict[str, Any] = {"size": args.size, "seconds": args.seconds, "fanout": {}}
    for receivers in (int(n) for n in args.receivers.split(",")):
        by_peer: dict[str, list[dict[str, Any]]] = {peer: [] for peer in peers}
        for _ in range(args.runs):
            for peer in peers:
                run = run_once(peer, receivers, args.seconds, args.size)
                by_peer[peer].append(run)
                print(json.dumps(run), file=sys.stderr, flush=True)
        results["fanout"][str(receivers)] = by_peer
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H%M")
    report = write_report(results, stamp)
    print(report.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
