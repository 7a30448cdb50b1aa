"""Measure the throughput of the ``ot`` core and print a table.

Micro benchmarks time single-splice edits, the common case for typing, on a
random document:

* ``apply``: apply one splice to the document,
* ``compose``: compose two consecutive splices,
* ``transform``: transform two concurrent splices,
* ``check``: validate and normalize one splice received as JSON-like data,
* ``rebase``: transform one late splice over a run of committed splices, as the
  server does when an editor's base is many revisions old.

Trace replays read recorded editing sessions (gzipped JSON, one patch is
``[position, deleted_count, inserted_text]`` in code points) and verify the final
text against the recording's ``endContent``:

* sequential traces apply every patch in order with ``from_splice`` and ``apply``,
* ``concurrent-*`` traces replay each agent as its own client against one server,
  using ``transform`` on both sides as a central-server OT system does.

Run from the repository root:

    python bench/ot_bench.py [--seconds 1] [--traces DIR] [--skip-traces]

Figures depend on the machine and Python build, so compare runs on one machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import random
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

REPO_ROOT = Path(__file__).resolve().parent.parent
# Lets the script run from a checkout without installing the package.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ot import (  # noqa: E402
    Operation,
    apply,
    check,
    compose,
    from_splice,
    target_length,
    transform,
)

SEED = 1234
ALPHABET = "abcdefghijklmnopqrstuvwxyz      \n\u00e9\u6f22\U0001f600"

Row = tuple[str, str, int, float]  # benchmark, workload, count, seconds


# Micro benchmarks


def _random_splice(rng: random.Random, length: int) -> Operation:
    """Return a typing-sized splice: mostly one-character inserts, some deletes and pastes."""
    pos = rng.randint(0, length)
    roll = rng.random()
    if roll < 0.7 or length == pos:
        return from_splice(length, pos, 0, rng.choice(ALPHABET))
    if roll < 0.95:
        return from_splice(length, pos, 1, "")
    count = rng.randint(0, min(20, length - pos))
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40)))
    return from_splice(length, pos, count, text)


def _time_loop(seconds: float, batch: Callable[[], int]) -> tuple[int, float]:
    """Run ``batch`` until ``seconds`` have passed and return (operations, elapsed seconds)."""
    count = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        count += batch()
        elapsed = time.perf_counter() - start
    return count, elapsed


def run_micro(seconds: float, doc_length: int, committed_count: int) -> list[Row]:
    rng = random.Random(SEED)
    text = "".join(rng.choice(ALPHABET) for _ in range(doc_length))
    pool_size = 1000

    splices = [_random_splice(rng, doc_length) for _ in range(pool_size)]
    followers = [_random_splice(rng, target_length(op)) for op in splices]
    wire_copies = [json.loads(json.dumps(op)) for op in splices]

    def apply_batch() -> int:
        for op in splices:
            apply(text, op)
        return pool_size

    def compose_batch() -> int:
        for first, second in zip(splices, followers):
            compose(first, second)
        return pool_size

    def transform_batch() -> int:
        for index in range(pool_size):
            transform(splices[index], splices[index - 1])
        return pool_size

    def check_batch() -> int:
        for op in wire_copies:
            check(op)
        return pool_size

    # A chain of committed splices, each on the document the previous one produced.
    committed: list[Operation] = []
    length = doc_length
    for _ in range(committed_count):
        op = _random_splice(rng, length)
        committed.append(op)
        length = target_length(op)
    late_edits = [_random_splice(rng, doc_length) for _ in range(100)]

    def rebase_batch() -> int:
        for late in late_edits:
            for op in committed:
                late = transform(op, late)[1]
        return len(late_edits)

    rows: list[Row] = []
    for name, batch in [
        ("apply", apply_batch),
        ("compose", compose_batch),
        ("transform", transform_batch),
        ("check", check_batch),
    ]:
        count, elapsed = _time_loop(seconds, batch)
        rows.append((name, f"splice, {doc_length}-char doc", count, elapsed))
    count, elapsed = _time_loop(seconds, rebase_batch)
    rows.append(("rebase", f"1 splice over {committed_count} committed", count, elapsed))
    return rows


# Trace replays


def find_trace_dir(requested: Path | None) -> Path | None:
    """Return the trace folder: the requested one, else tests/traces, else ../shared/traces."""
    if requested is not None:
        return requested if requested.is_dir() else None
    for candidate in (REPO_ROOT / "tests" / "traces", REPO_ROOT.parent / "shared" / "traces"):
        if candidate.is_dir():
            return candidate
    return None


def replay_sequential(trace: dict[str, Any]) -> tuple[str, int]:
    """Apply every patch in order and return (final text, patch count)."""
    text: str = trace.get("startContent", "")
    count = 0
    for txn in trace["txns"]:
        for pos, deleted, inserted in txn["patches"]:
            text = apply(text, from_splice(len(text), pos, deleted, inserted))
            count += 1
    return text, count


_transform_calls = 0
"""Number of transform calls made by concurrent replays, reported with their timing."""


def _transform_entry(
    entry: Operation, entry_agent: int, mine: Operation, my_agent: int, lower_agent_first: bool
) -> tuple[Operation, Operation]:
    """Transform a committed log entry against a client's own op and return (entry', mine').

    The server rule puts the committed entry first on an insert tie. With
    ``lower_agent_first`` the lower agent number goes first instead, which is
    the order the two-agent recording resolved its ties in.
    """
    global _transform_calls
    _transform_calls += 1
    if lower_agent_first and my_agent < entry_agent:
        mine_prime, entry_prime = transform(mine, entry)
        return entry_prime, mine_prime
    return transform(entry, mine)


class _Client:
    """One agent's editor: its text, how much of the server log it has processed, and its unacknowledged ops."""

    def __init__(self, agent: int, lower_agent_first: bool) -> None:
        self.agent = agent
        self.lower_agent_first = lower_agent_first
        self.text = ""
        self.processed = 0
        self.pending: deque[Operation] = deque()

    def receive(self, log: list[Operation], authors: list[int], until: int) -> None:
        """Process server log entries up to index ``until``, exclusive."""
        while self.processed < until:
            index = self.processed
            self.processed += 1
            if authors[index] == self.agent:
                # The server committed this client's oldest pending op.
                self.pending.popleft()
                continue
            op = log[index]
            for slot, mine in enumerate(self.pending):
                op, self.pending[slot] = _transform_entry(
                    op, authors[index], mine, self.agent, self.lower_agent_first
                )
            self.text = apply(self.text, op)


def _rebase_on_server(
    log: list[Operation], authors: list[int], client: _Client, op: Operation
) -> Operation:
    """Rewrite a client's new op to apply after the whole server log, without changing the client.

    The server does what the client will do when it receives the entries it
    has not processed yet, so both sides make the same transform calls.
    """
    pending = list(client.pending)
    pending.append(op)
    for index in range(client.processed, len(log)):
        if authors[index] == client.agent:
            pending.pop(0)
            continue
        entry = log[index]
        for slot in range(len(pending)):
            entry, pending[slot] = _transform_entry(
                entry, authors[index], pending[slot], client.agent, client.lower_agent_first
            )
    return pending[0]


def replay_concurrent(trace: dict[str, Any], lower_agent_first: bool = False) -> tuple[str, int, bool]:
    """Replay each agent as a client of one OT server.

    Returns the server text, the transaction count and whether every client,
    once it has processed the whole log, has the server text.

    Before an agent's transaction, its client processes the server log exactly
    up to the newest transaction of another agent in the transaction's history.
    That assumes each agent's transactions form a chain, as in the two-agent
    recording. The server commits transactions in recording order.
    """
    txns = trace["txns"]
    agent_count: int = trace["numAgents"]
    clients = [_Client(agent, lower_agent_first) for agent in range(agent_count)]
    log: list[Operation] = []
    authors: list[int] = []
    server_text = ""
    # newest[t][agent] is the newest transaction of agent in t's history, or -1.
    newest: list[list[int]] = []

    for index, txn in enumerate(txns):
        agent: int = txn["agent"]
        seen = [-1] * agent_count
        for parent in txn["parents"]:
            seen = [max(pair) for pair in zip(seen, newest[parent])]

        client = clients[agent]
        other_newest = max((seen[other] for other in range(agent_count) if other != agent), default=-1)
        if other_newest >= client.processed:
            client.receive(log, authors, other_newest + 1)

        op: Operation = []
        for pos, deleted, inserted in txn["patches"]:
            patch = from_splice(len(client.text), pos, deleted, inserted)
            client.text = apply(client.text, patch)
            op = compose(op, patch) if op else patch

        committed = _rebase_on_server(log, authors, client, op)
        log.append(committed)
        authors.append(agent)
        server_text = apply(server_text, committed)
        if client.processed == index:
            # Nothing from other agents came in between, so the ack is immediate.
            client.processed += 1
        else:
            client.pending.append(op)

        seen[agent] = index
        newest.append(seen)

    for client in clients:
        client.receive(log, authors, len(log))
    converged = all(client.text == server_text for client in clients)
    return server_text, len(txns), converged


def run_traces(trace_dir: Path) -> tuple[list[Row], list[str], list[str]]:
    """Replay every trace in ``trace_dir`` and return (rows, failures, notes)."""
    rows: list[Row] = []
    failures: list[str] = []
    notes: list[str] = []
    for path in sorted(trace_dir.glob("*.json.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            trace = json.load(stream)
        name = path.name.removesuffix(".json.gz")

        if trace.get("kind") != "concurrent":
            start = time.perf_counter()
            text, count = replay_sequential(trace)
            elapsed = time.perf_counter() - start
            rows.append(("replay", f"{name} (patches)", count, elapsed))
            if text != trace["endContent"]:
                failures.append(f"{name}: replayed text differs from endContent")
            continue

        global _transform_calls
        for lower_agent_first in (False, True):
            _transform_calls = 0
            start = time.perf_counter()
            text, count, converged = replay_concurrent(trace, lower_agent_first)
            elapsed = time.perf_counter() - start
            ties = "agent 0 first on ties" if lower_agent_first else "committed first on ties"
            rows.append(("replay", f"{name} (txns, {ties})", count, elapsed))
            rows.append(("", "  of which transform calls", _transform_calls, elapsed))
            if not converged:
                failures.append(f"{name} ({ties}): clients did not converge on the server text")
            if text == trace["endContent"]:
                notes.append(f"{name} ({ties}): final text matches endContent")
            elif lower_agent_first:
                failures.append(f"{name} ({ties}): final text differs from endContent")
            else:
                # Concurrent inserts made adjacent by a concurrent delete tie in
                # position-based OT, and the recording ordered them by agent.
                notes.append(f"{name} ({ties}): clients converged, on a text that orders some tied inserts differently from endContent")
    return rows, failures, notes


def print_table(rows: list[Row]) -> None:
    header = ("benchmark", "workload", "count", "seconds", "per second")
    lines = [(bench, workload, f"{count:,}", f"{elapsed:.3f}", f"{count / elapsed:,.0f}") for bench, workload, count, elapsed in rows]
    widths = [max(len(row[column]) for row in [header, *lines]) for column in range(len(header))]
    for row in [header, *lines]:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
        print("  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="minimum run time of each micro benchmark, in seconds (default 1)")
    parser.add_argument("--doc-length", type=int, default=10_000, help="length of the micro benchmark document, in code points (default 10000)")
    parser.add_argument("--committed", type=int, default=100, help="number of committed splices a late edit is rebased over (default 100)")
    parser.add_argument(
        "--traces",
        type=Path,
        default=None,
        help="folder of *.json.gz editing traces (default tests/traces, or ../shared/traces next to the repository if that is missing)",
    )
    parser.add_argument("--skip-traces", action="store_true", help="run only the micro benchmarks")
    args = parser.parse_args(argv)

    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()}")
    rows = run_micro(args.seconds, args.doc_length, args.committed)

    failures: list[str] = []
    notes: list[str] = []
    if not args.skip_traces:
        trace_dir = find_trace_dir(args.traces)
        if trace_dir is None:
            print(f"trace folder not found: {args.traces or 'tests/traces'}; use --traces DIR or --skip-traces", file=sys.stderr)
            return 2
        print(f"traces from {trace_dir}")
        trace_rows, failures, notes = run_traces(trace_dir)
        rows += trace_rows

    print_table(rows)
    for note in notes:
        print(note)
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
