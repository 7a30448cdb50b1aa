"""Print the comparison results as Markdown tables: min / median / max over trials.

    .venv/bin/python bench/compare/summarize.py [--load results/load-quick.json] [--ot results/ot.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

HERE = Path(__file__).resolve().parent


def spread(values: Iterable[float | None], digits: int = 1) -> str:
    """Format min / median / max of the values that are not None."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return "n/a"
    parts = [present[0], statistics.median(present), present[-1]]
    return " / ".join(f"{p:,.{digits}f}" for p in parts)


def cpu_per_delivery(run: dict[str, Any]) -> float | None:
    """Return the server's CPU time per delivered edit in microseconds, which CPU contention changes little."""
    if run.get("serverCpu") is None or not run.get("deliveriesPerSecond"):
        return None
    return run["serverCpu"] / run["deliveriesPerSecond"] * 1e6


def typing_table(runs: list[dict[str, Any]], workload: str) -> None:
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        if run.get("workload") == workload and "latencyMs" in run:
            by_system[run["system"]].append(run)
    if not by_system:
        return
    print(f"\nWorkload {workload} (min / median / max of {max(len(v) for v in by_system.values())} trials)\n")
    print(
        "| system | p50 ms | p99 ms | max ms | edits/s | server CPU | server CPU µs per delivery"
        " | server runqueue wait | harness CPU | harness lag p99 ms | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for system, items in by_system.items():
        print(
            f"| {system} | {spread(r['latencyMs']['p50'] for r in items)} | {spread(r['latencyMs']['p99'] for r in items)}"
            f" | {spread(r['latencyMs']['max'] for r in items)} | {spread((r['editsPerSecond'] for r in items), 0)}"
            f" | {spread((r['serverCpu'] for r in items), 2)} | {spread(cpu_per_delivery(r) for r in items)}"
            f" | {spread((r.get('serverRunqueueWait') for r in items), 2)}"
            f" | {spread((r['harnessCpu'] for r in items), 2)} | {spread(r['harnessLagMs']['p99'] for r in items)}"
            f" | {spread((r.get('loadAverage1m') for r in items), 1)} |"
        )
    failures = [r for items in by_system.values() for r in items if r["undelivered"] or r["unacknowledged"] or r["divergentDocuments"]]
    for run in failures:
        print(f"\n{run['system']} trial {run['trial']}: {run['undelivered']} undelivered, {run['unacknowledged']} unacknowledged, {run['divergentDocuments']} divergent documents")


def idle_table(runs: list[dict[str, Any]]) -> None:
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        if run.get("workload") == "c":
            by_system[run["system"]].append(run)
    if not by_system:
        return
    print("\nWorkload c: idle connections (min / median / max over trials)\n")
    print("| system | connections reached | RSS with 0 (MiB) | RSS at max (MiB) | KB per connection |")
    print("|---|---|---|---|---|")
    for system, items in by_system.items():
        errors = [r["error"] for r in items if "error" in r]
        good = [r for r in items if "points" in r]
        if not good:
            print(f"| {system} | failed: {errors[0][:80]} | | | |")
            continue
        last = [r["points"][-1] for r in good]
        print(
            f"| {system} | {spread((p['connections'] for p in last), 0)} | {spread(r['points'][0]['rssBytes'] / 2**20 for r in good)}"
            f" | {spread(p['rssBytes'] / 2**20 for p in last)} | {spread(p['bytesPerConnection'] / 1000 for p in last)} |"
        )
        for error in errors:
            print(f"\n{system}: a trial failed: {error}")


def ramp_table(runs: list[dict[str, Any]]) -> None:
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        if run.get("workload") == "d":
            by_system[run["system"]].append(run)
    if not by_system:
        return
    print("\nWorkload d: editors on one document at 5 edits/s before p99 exceeds 100 ms\n")
    print("| system | saturation editors per trial | first failing step per trial |")
    print("|---|---|---|")
    for system, items in by_system.items():
        saturation = [str(r.get("saturationEditors", "error")) for r in items]
        failing = [str(r.get("firstFailingEditors")) for r in items]
        print(f"| {system} | {', '.join(saturation)} | {', '.join(failing)} |")


def ot_tables(result: dict[str, Any]) -> None:
    micro = result["micro"]
    reference = micro["docserver ot (Python)"]
    print("\nOT micro-benchmarks: operations per second (ratio to docserver's Python ot)\n")
    print("| library | apply | compose | transform |")
    print("|---|---|---|---|")
    for name, figures in micro.items():
        cells = [f"{figures[k]:,.0f} ({figures[k] / reference[k]:.2f}x)" for k in ("apply", "compose", "transform")]
        print(f"| {name} | {' | '.join(cells)} |")
    traces = result["traces"]
    names = list(traces["docserver ot (Python)"])
    print("\nTrace replay: patches per second (ratio to docserver's Python ot)\n")
    print("| library | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for library, figures in traces.items():
        cells = [
            f"{figures[n]['patchesPerSecond']:,.0f} ({figures[n]['patchesPerSecond'] / traces['docserver ot (Python)'][n]['patchesPerSecond']:.2f}x)"
            for n in names
        ]
        print(f"| {library} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=Path, default=HERE / "results" / "load-quick.json")
    parser.add_argument("--ot", type=Path, default=HERE / "results" / "ot.json")
    args = parser.parse_args()
    if args.load.exists():
        load = json.loads(args.load.read_text(encoding="utf-8"))
        print(f"{args.load.name}: {load['command']}, {load['started']} to {load['finished']}")
        for workload in ("a", "b"):
            typing_table(load["runs"], workload)
        idle_table(load["runs"])
        ramp_table(load["runs"])
    if args.ot.exists():
        ot_tables(json.loads(args.ot.read_text(encoding="utf-8")))


if __name__ == "__main__":
    main()
