"""Append latency and sustained appends per second of the SQLite and Cassandra stores.

Every append stores one record, as the server does for one editor typing, under two workloads:

* sequential: one document, each append awaited before the next starts, which gives the
  latency of a single append;
* concurrent: N documents (`--documents`), each with its own task appending in sequence, all
  on one event loop, which gives sustained throughput.

On Cassandra each workload runs twice. "LWT" is the store's real `append`: an unlogged batch of
`INSERT ... IF NOT EXISTS`, so one Paxos transaction per append. "plain" writes the same rows
into the same table with the same statement minus `IF NOT EXISTS`, sent the same way, so the
difference is the cost of the lightweight transaction. SQLite runs its `append` (WAL,
synchronous=FULL, so one fsync per commit) on a file in `--data-dir`.

Each measurement is preceded by a warm-up on other documents whose figures are discarded.
Records go to fresh document ids in the keyspace `--keyspace`, which is created if missing and
not cleaned up afterwards.

    python -m bench.store_bench --store both --seconds 15 --documents 32
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from docserver.store import OpRecord, Store, StoreUnavailable
from docserver.store.sqlite import SQLiteStore
from ot import Operation

AppendFunction = Callable[[str, int, Sequence[OpRecord]], Awaitable[None]]

VERSION = 0
# One typed character in the middle of a 100-character document, the record of one keystroke.
TYPING_OP: Operation = [50, "a", 50]


@dataclasses.dataclass(frozen=True)
class Measurement:
    """The outcome of one workload run."""

    store: str
    method: str
    workload: str
    appends: int
    failed: int
    elapsed: float  # wall-clock seconds
    latencies_ms: list[float]
    client_cpu: float  # CPU seconds of this process (all threads) per wall-clock second
    machine_cpu: float | None  # busy fraction of all cores, from /proc/stat; None elsewhere

    @property
    def rate(self) -> float:
        return self.appends / self.elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def read_cpu_ticks() -> tuple[int, int] | None:
    """Return (busy, total) CPU ticks of the whole machine, or None without /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            # user, nice, system, idle, iowait, irq, softirq, steal; guest time is already in user.
            fields = [int(value) for value in stat.readline().split()[1:9]]
    except OSError:
        return None
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def make_record(revision: int) -> OpRecord:
    return OpRecord(
        revision=revision,
        op=TYPING_OP,
        client_id="bench-client",
        edit_id=f"e{revision}",
        committed_at=time.time(),
    )


async def drive(append: AppendFunction, doc_ids: list[str], seconds: float) -> tuple[int, int, float, list[float]]:
    """Append one record at a time to each document until `seconds` pass.

    Each document gets its own task, so the documents append concurrently and each one's
    revisions stay consecutive. Returns (appends, failed, elapsed seconds, latencies in ms).
    A failed append (`StoreUnavailable`, a timeout for one) is counted, and its task moves on
    to the next revision because the failed one may or may not have been stored.
    """
    latencies: list[float] = []
    failed = 0
    deadline = time.perf_counter() + seconds

    async def writer(doc_id: str) -> None:
        nonlocal failed
        revision = 0
        while time.perf_counter() < deadline:
            revision += 1
            record = make_record(revision)
            started = time.perf_counter()
            try:
                await append(doc_id, VERSION, [record])
            except StoreUnavailable:
                failed += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(writer(doc_id) for doc_id in doc_ids))
    return len(latencies), failed, time.perf_counter() - started, latencies


async def measure(
    store: str,
    method: str,
    append: AppendFunction,
    documents: int,
    seconds: float,
    warmup: float,
) -> list[Measurement]:
    """Run the sequential and then the concurrent workload, each after its own warm-up."""
    results = []
    for workload, count in (("sequential", 1), (f"concurrent, {documents} docs", documents)):
        run_id = uuid.uuid4().hex[:12]
        if warmup > 0:
            await drive(append, [f"bench-{run_id}-warmup-{i}" for i in range(count)], warmup)

        cpu_before = time.process_time()
        ticks_before = read_cpu_ticks()
        appends, failed, elapsed, latencies = await drive(
            append, [f"bench-{run_id}-{i}" for i in range(count)], seconds
        )
        client_cpu = (time.process_time() - cpu_before) / elapsed
        ticks_after = read_cpu_ticks()
        machine_cpu = None
        if ticks_before is not None and ticks_after is not None and ticks_after[1] > ticks_before[1]:
            machine_cpu = (ticks_after[0] - ticks_before[0]) / (ticks_after[1] - ticks_before[1])

        if not latencies:
            raise RuntimeError(f"{store} {method} {workload}: all {failed} appends failed")
        results.append(
            Measurement(store, method, workload, appends, failed, elapsed, latencies, client_cpu, machine_cpu)
        )
        print(f"  {store}, {method}, {workload}: {appends / elapsed:,.0f} appends/s", flush=True)
    return results


async def bench_sqlite(data_dir: Path, documents: int, seconds: float, warmup: float) -> list[Measurement]:
    store = SQLiteStore(data_dir / "store_bench.sqlite3")
    await store.open()
    try:
        return await measure("SQLite", "append", store.append, documents, seconds, warmup)
    finally:
        await store.close()


def plain_append(store: Store) -> AppendFunction:
    """Return an append that writes the rows of `CassandraStore.append` without the condition."""
    from cassandra.query import BatchStatement, BatchType

    from docserver.store.cassandra import CassandraStore

    assert isinstance(store, CassandraStore)
    # NOTE: this uses the store's private session and request path so that both methods share
    # the connection, the consistency level and the bridge to the event loop.
    session = store._session
    assert session is not None
    statement = session.prepare(
        f"INSERT INTO {store.keyspace}.operations"
        " (doc_id, version, revision, op, client_id, edit_id, committed_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    statement.consistency_level = store.consistency

    async def append(doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        batch = BatchStatement(batch_type=BatchType.UNLOGGED, consistency_level=store.consistency)
        for record in records:
            op_text = json.dumps(record.op, ensure_ascii=False, separators=(",", ":"))
            batch.add(
                statement,
                (doc_id, version, record.revision, op_text, record.client_id, record.edit_id, record.committed_at),
            )
        await store._execute(batch)

    return append


async def bench_cassandra(address: str, keyspace: str, documents: int, seconds: float, warmup: float) -> list[Measurement]:
    from docserver.store.cassandra import CassandraStore

    host, _, port_text = address.rpartition(":")
    if not host or not port_text.isdigit():
        raise SystemExit(f"invalid --cassandra {address!r}: expected HOST:PORT, for example 127.0.0.1:9042")
    store = CassandraStore([host], int(port_text), keyspace, create_schema=True)
    await store.open()
    try:
        session = store._session
        assert session is not None
        row = await asyncio.to_thread(lambda: session.execute("SELECT release_version FROM system.local").one())
        release = row.release_version
        print(f"Cassandra {release} at {address}, keyspace {keyspace}", flush=True)
        results = await measure("Cassandra", "LWT", store.append, documents, seconds, warmup)
        results += await measure("Cassandra", "plain", plain_append(store), documents, seconds, warmup)
        return results
    finally:
        await store.close()


def print_table(results: list[Measurement]) -> None:
    header = ("store", "append", "workload", "appends", "failed", "appends/s", "p50 ms", "p99 ms", "client CPU", "machine CPU")
    rows = [header]
    for result in results:
        rows.append((
            result.store,
            result.method,
            result.workload,
            f"{result.appends:,}",
            str(result.failed),
            f"{result.rate:,.0f}",
            f"{statistics.median(result.latencies_ms):.2f}",
            f"{percentile(result.latencies_ms, 0.99):.2f}",
            f"{result.client_cpu:.0%}",
            "n/a" if result.machine_cpu is None else f"{result.machine_cpu:.0%}",
        ))
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) if column < 3 else cell.rjust(width)
                        for column, (cell, width) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * width for width in widths))


async def run(args: argparse.Namespace) -> list[Measurement]:
    results: list[Measurement] = []
    if args.store in ("sqlite", "both"):
        if args.data_dir is not None:
            args.data_dir.mkdir(parents=True, exist_ok=True)
            results += await bench_sqlite(args.data_dir, args.documents, args.seconds, args.warmup)
        else:
            with tempfile.TemporaryDirectory(prefix="store_bench-") as data_dir:
                results += await bench_sqlite(Path(data_dir), args.documents, args.seconds, args.warmup)
    if args.store in ("cassandra", "both"):
        results += await bench_cassandra(args.cassandra, args.keyspace, args.documents, args.seconds, args.warmup)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", choices=("sqlite", "cassandra", "both"), default="both", help="stores to measure (default both)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured workload, in seconds (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured run before each workload, in seconds (default 2)")
    parser.add_argument("--documents", type=int, default=32, help="documents appending at once in the concurrent workload (default 32)")
    parser.add_argument("--cassandra", default="127.0.0.1:9042", help="HOST:PORT of the Cassandra node (default 127.0.0.1:9042)")
    parser.add_argument("--keyspace", default="bench_store", help="Cassandra keyspace for the records, created if missing (default bench_store)")
    parser.add_argument("--data-dir", type=Path, default=None, help="folder of the SQLite file (default: a temporary folder, removed afterwards)")
    args = parser.parse_args(argv)
    if args.documents < 1:
        parser.error(f"--documents must be at least 1, got {args.documents}")
    if args.seconds <= 0:
        parser.error(f"--seconds must be positive, got {args.seconds}")
    if not args.keyspace.isidentifier():
        parser.error(f"invalid --keyspace {args.keyspace!r}: use letters, digits and underscores")

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs", flush=True)
    results = asyncio.run(run(args))
    print()
    print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
