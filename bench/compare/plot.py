"""Draw the comparison benchmark plots into docs/images/ from bench/compare/results/.

    .venv/bin/python bench/compare/plot.py [--load results/load.json]

Without --load it uses results/load.json when present, else results/load-quick.json.
Writes bench-latency.png (edit-to-peer latency distributions of workloads a and b),
bench-ramp.png (p99 latency and server CPU against editors, workload d) and
bench-memory.png (server RSS against idle connections, workload c).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
IMAGES = HERE.parent.parent / "docs" / "images"
# Bin edges of the latency histograms that load.mjs writes: 0.1 ms to 100 s, 20 per decade.
EDGES = [0.1 * 10 ** (i / 20) for i in range(6 * 20 + 1)]
COLORS = {"docserver": "tab:blue", "docserver-cassandra": "tab:cyan", "sharedb": "tab:orange", "yjs": "tab:green"}
LABELS = {
    "docserver": "docserver (SQLite)",
    "docserver-cassandra": "docserver (Cassandra)",
    "sharedb": "ShareDB (MemoryDB)",
    "yjs": "Hocuspocus (Yjs)",
}


def plot_latency(runs: list[dict[str, Any]], title: str) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, workload in zip(axes, ["a", "b"]):
        merged: dict[str, list[int]] = {}
        for run in runs:
            if run.get("workload") != workload or "latencyMs" not in run:
                continue
            counts = merged.setdefault(run["system"], [0] * (len(EDGES) - 1))
            for index, count in enumerate(run["latencyMs"]["histogram"]):
                counts[index] += count
        for system, counts in merged.items():
            total = sum(counts)
            if not total:
                continue
            cumulative = 0
            xs, ys = [], []
            for index, count in enumerate(counts):
                cumulative += count
                xs.append(EDGES[index + 1])
                ys.append(cumulative / total)
            axis.plot(xs, ys, label=LABELS.get(system, system), color=COLORS.get(system))
        example = next((r for r in runs if r.get("workload") == workload and "editors" in r), None)
        if example:
            axis.set_title(
                f"({workload}) {example['documents']} doc(s), {example['editors']} editors, {example['rate']} edits/s each"
            )
        axis.set_xscale("log")
        axis.set_xlabel("edit-to-peer latency (ms)")
        axis.set_ylabel("fraction of deliveries")
        axis.axvline(25, color="grey", linestyle=":", linewidth=1)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"Edit-to-peer latency, all trials merged ({title})")
    figure.tight_layout()
    figure.savefig(IMAGES / "bench-latency.png", dpi=110)
    plt.close(figure)


def plot_ramp(runs: list[dict[str, Any]], title: str) -> None:
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    by_system: dict[str, dict[int, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if run.get("workload") != "d" or "steps" not in run:
            continue
        for step in run["steps"]:
            by_system[run["system"]][step["editors"]].append(step)
    for system, steps in by_system.items():
        editors = sorted(steps)
        p99 = [statistics.median(s["latencyMs"]["p99"] for s in steps[e]) for e in editors]
        server_cpu = [statistics.median(s["serverCpu"] for s in steps[e]) for e in editors]
        color = COLORS.get(system)
        left.plot(editors, p99, marker="o", label=LABELS.get(system, system), color=color)
        right.plot(editors, server_cpu, marker="o", label=LABELS.get(system, system), color=color)
    left.axhline(100, color="grey", linestyle=":", linewidth=1)
    left.set_yscale("log")
    left.set_xlabel("editors on one document (5 edits/s each)")
    left.set_ylabel("p99 edit-to-peer latency (ms), median of trials")
    right.set_xlabel("editors on one document (5 edits/s each)")
    # Every step delivers its whole offered load (editors x 5 x (editors - 1) per second)
    # eventually, so server CPU, not deliveries, shows how close a server is to its limit.
    right.set_ylabel("server CPU (cores), median of trials")
    for axis in (left, right):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(f"(d) Ramp until p99 exceeds 100 ms ({title})")
    figure.tight_layout()
    figure.savefig(IMAGES / "bench-ramp.png", dpi=110)
    plt.close(figure)


def plot_memory(runs: list[dict[str, Any]], title: str) -> None:
    figure, axis = plt.subplots(figsize=(6.5, 4))
    for run in runs:
        if run.get("workload") != "c" or "points" not in run:
            continue
        points = run["points"]
        axis.plot(
            [p["connections"] for p in points],
            [p["rssBytes"] / 2**20 for p in points],
            marker="o",
            color=COLORS.get(run["system"]),
            label=LABELS.get(run["system"], run["system"]) if run["trial"] == 1 else None,
            alpha=0.8,
        )
    axis.set_xlabel("idle connected editors (10 per document)")
    axis.set_ylabel("server RSS (MiB)")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    axis.set_title(f"(c) Server memory against idle connections ({title})", fontsize=10)
    figure.tight_layout()
    figure.savefig(IMAGES / "bench-memory.png", dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=Path, help="load results JSON written by load.mjs")
    args = parser.parse_args()
    load_path = args.load
    if load_path is None:
        full = HERE / "results" / "load.json"
        load_path = full if full.exists() else HERE / "results" / "load-quick.json"
    result = json.loads(load_path.read_text(encoding="utf-8"))
    title = result["command"]
    IMAGES.mkdir(parents=True, exist_ok=True)
    plot_latency(result["runs"], title)
    plot_ramp(result["runs"], title)
    plot_memory(result["runs"], title)
    print(f"plots of {load_path.name} written to {IMAGES}")


if __name__ == "__main__":
    main()
