"""Draw a benchmark result as a PNG: one panel per scenario and metric, a bar per peer.

    bench/.venv/bin/python bench/chart.py bench/results/<stamp>.json   # writes <stamp>.png
    bench/.venv/bin/python bench/chart.py                              # the newest result

Reads the ``summary`` rows bench/run.py writes (one per scenario, case, peer and metric,
with the median of the runs that did not fail). Each panel groups the bars by case; a peer
keeps its colour in every panel, Roomcast first and strongest. A panel whose values span
more than 20x gets a log scale; a median that is missing (every run failed) is drawn as no
bar and a small "failed" on the peer's colour. Runs in bench/.venv (matplotlib), with Agg.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

RESULTS = Path(__file__).resolve().parent / "results"
OURS = "roomcast"
OUR_COLOUR = "#d7301f"
# Muted, so that Roomcast's bar stands out; known peers keep their colour across charts.
PEER_COLOURS = {
    "node-socketio": "#5b84b1",
    "python-socketio": "#7fb77e",
    "flask-socketio-gevent": "#a58cc9",
    "flask-socketio-threading": "#d9b26f",
}
SPARE_COLOURS = ("#8c8c8c", "#6fb7bf", "#c98c9d", "#b5a27a", "#9fb3c8")
LOG_SPAN = 20.0
COLUMNS = 2


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def peer_colours(peers: list[str]) -> dict[str, str]:
    colours = {OURS: OUR_COLOUR}
    spare = iter(SPARE_COLOURS * (1 + len(peers) // len(SPARE_COLOURS)))
    for peer in peers:
        if peer not in colours:
            colours[peer] = PEER_COLOURS.get(peer) or next(spare)
    return colours


def _edge(peer: str) -> str:
    return "#333333" if peer == OURS else "none"


def _compact(value: float, _position: object = None) -> str:
    """1,234,567 -> 1.2M, 45,000 -> 45k, 0.25 -> 0.25."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def draw_panel(
    ax: Axes, rows: list[dict[str, Any]], peers: list[str], colours: dict[str, str]
) -> None:
    first = rows[0]
    cases = _unique(row["case"] for row in rows)
    here = [peer for peer in peers if any(row["peer"] == peer for row in rows)]
    by_key = {(row["case"], row["peer"]): row for row in rows}
    width = 0.8 / len(here)
    values = [row["median"] for row in rows if row["median"] is not None and row["median"] > 0]
    log = bool(values) and max(values) / min(values) > LOG_SPAN
    failed_at = ax.get_xaxis_transform()  # x in data, y in axes fractions
    for i, peer in enumerate(here):
        for x, case in enumerate(cases):
            row = by_key.get((case, peer))
            if row is None:
                continue
            pos = x - 0.4 + width * (i + 0.5)
            if row["median"] is None:
                ax.text(
                    pos,
                    0.02,
                    "failed",
                    transform=failed_at,
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color="#222222",
                    bbox={
                        "facecolor": colours[peer],
                        "alpha": 0.55,
                        "edgecolor": "none",
                        "pad": 1.5,
                    },
                )
                continue
            ax.bar(
                pos,
                row["median"],
                width * 0.92,
                color=colours[peer],
                edgecolor=_edge(peer),
                linewidth=0.6,
            )
            partly = f" ({row['failed_runs']}/{row['runs']} failed)" if row["failed_runs"] else ""
            ax.annotate(
                _compact(row["median"]) + partly,
                (pos, row["median"]),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                rotation=90,
                fontsize=7,
            )
    if log:
        ax.set_yscale("log")
        ax.set_ylim(min(values) / 2, max(values) * 8)  # room above for the labels
    elif values:
        ax.set_ylim(0, max(values) * 1.35)
    ax.yaxis.set_major_formatter(FuncFormatter(_compact))
    ax.set_xticks(range(len(cases)), cases, fontsize=9)
    ax.set_xlim(-0.6, len(cases) - 0.4)
    ax.set_ylabel(f"{first['label']} ({first['unit']})")
    better = "higher is better" if first["higher_is_better"] else "lower is better"
    ax.set_title(f"{first['scenario']}: {first['label']}  ({better})", fontsize=11)
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)


def chart(summary: list[dict[str, Any]], title: str) -> Figure:
    panels: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in summary:
        panels.setdefault((row["scenario"], row["metric"]), []).append(row)
    peers = _unique(row["peer"] for row in summary)
    peers = [OURS] * (OURS in peers) + [peer for peer in peers if peer != OURS]
    colours = peer_colours(peers)
    columns = min(COLUMNS, len(panels))
    lines = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(6.5 * columns, 3.6 * lines + 1.0), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(lines, columns, squeeze=False).flatten()
    for ax, rows in zip(axes, panels.values(), strict=False):
        draw_panel(ax, rows, peers, colours)
    for ax in axes[len(panels) :]:
        ax.remove()
    fig.legend(
        [Patch(facecolor=colours[peer], edgecolor=_edge(peer), linewidth=0.6) for peer in peers],
        peers,
        loc="outside upper center",
        ncols=len(peers) if columns > 1 else min(len(peers), 3),
        frameon=False,
        title=title,  # a suptitle would sit on top of an outside legend
        title_fontproperties={"size": 13, "weight": "bold"},
    )
    return fig


def newest_result() -> Path:
    found = sorted(RESULTS.glob("*.json"))
    for path in reversed(found):
        if "summary" in json.loads(path.read_text()):
            return path
    raise SystemExit(f"no result with a summary in {RESULTS}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="*", type=Path, help="default: the newest result")
    parser.add_argument("-o", "--output", type=Path, help="default: the result's .png")
    args = parser.parse_args()
    paths = args.results or [newest_result()]
    if args.output and len(paths) > 1:
        parser.error("--output takes one result")
    for path in paths:
        data = json.loads(path.read_text())
        if not data.get("summary"):
            print(f"{path}: no summary rows (older than bench/run.py's summary)", file=sys.stderr)
            return 1
        out = args.output or path.with_suffix(".png")
        chart(data["summary"], f"Benchmark {path.stem}").savefig(out, dpi=110)
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
