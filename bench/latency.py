"""Edit-to-peer latency with several editors typing into one document.

Starts `docserver serve` in a subprocess, on the embedded SQLite store in a temporary folder or
on the store given with `--store`. Connects N editors from this process (one event loop, so one
monotonic clock for send and receive times) and has each insert or delete at a fixed rate.
Reports the time from an edit being sent until each other editor has applied it.

    python -m bench.latency --editors 10 --rate 5 --seconds 20
    python -m bench.latency --store cassandra://127.0.0.1:9042/bench_latency

With a Cassandra store the keyspace and tables are created first if they are missing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from docserver.client import ClientState, DocumentClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, data_dir: str, store_url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "docserver.cli", "serve", "--port", str(port), "--data-dir", data_dir,
            "--store", store_url, "--log-level", "WARNING",
        ],
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server with store {store_url!r} exited with code {process.returncode} during start")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server on port {port} with store {store_url!r} did not respond to HTTP within 20 s")


def apply_cassandra_schema(store_url: str) -> None:
    """Create the keyspace and tables of a `cassandra://` store URL that are missing."""
    from cassandra.cluster import Cluster

    from docserver.store.cassandra import CassandraStore, apply_schema

    store = CassandraStore.from_url(store_url)
    cluster = Cluster(store.hosts, port=store.port, protocol_version=5)
    try:
        apply_schema(cluster.connect(), store.keyspace, None)
    finally:
        cluster.shutdown()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(editors: int, rate: float, seconds: float, port: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    doc_id = httpx.post(f"{base}/docs", json={"title": "latency"}).json()["id"]

    sent_at: dict[tuple[str, str], float] = {}  # (client, edit id) -> monotonic send time
    revision_sent: dict[int, float] = {}
    arrivals: list[tuple[int, float]] = []

    def on_remote(author: str, revision: int, op: object) -> None:
        arrivals.append((revision, time.monotonic()))

    clients = [
        DocumentClient(f"ws://127.0.0.1:{port}/docs/{doc_id}", name=f"editor {i}", on_remote=on_remote)
        for i in range(editors)
    ]
    for client in clients:
        await client.connect()

    skipped = 0
    edits = 0

    async def typist(client: DocumentClient, rng: random.Random) -> None:
        nonlocal skipped, edits
        interval = 1.0 / rate
        next_time = time.monotonic() + rng.random() * interval
        stop = time.monotonic() + seconds
        while next_time < stop:
            await asyncio.sleep(max(0.0, next_time - time.monotonic()))
            next_time += interval
            if client.state is not ClientState.SYNCHRONIZED:
                skipped += 1
                continue
            length = len(client.content)
            if length > 200 and rng.random() < 0.4:
                client.delete(rng.randrange(length - 3), 3)
            else:
                client.insert(rng.randint(0, length), "abc")
            assert client.outstanding is not None
            sent_at[(client.client_id, client.outstanding[0])] = time.monotonic()
            edits += 1

    rng = random.Random(1)
    await asyncio.gather(*(typist(c, random.Random(rng.random())) for c in clients))
    for client in clients:
        await client.wait_synced()
    await asyncio.sleep(0.5)
    for client in clients:
        for edit_id, revision in client.acknowledged.items():
            revision_sent[revision] = sent_at[(client.client_id, edit_id)]
        await client.close()

    latencies = [(arrived - revision_sent[rev]) * 1000 for rev, arrived in arrivals if rev in revision_sent]
    return {
        "editors": editors,
        "edits": edits,
        "skipped_while_awaiting": skipped,
        "deliveries": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--editors", type=int, default=10, help="editors on the document")
    parser.add_argument("--rate", type=float, default=5.0, help="edits per second per editor")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the run")
    parser.add_argument(
        "--store",
        default="sqlite",
        help="store URL of the server: 'sqlite' (a file in a temporary folder), 'sqlite:///PATH'"
        " or 'cassandra://HOST:PORT/KEYSPACE' (default sqlite)",
    )
    args = parser.parse_args()

    if args.store.startswith("cassandra://"):
        apply_cassandra_schema(args.store)
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        server = start_server(port, data_dir, args.store)
        try:
            result = asyncio.run(run(args.editors, args.rate, args.seconds, port))
        finally:
            server.terminate()
            server.wait()
    print(f"{'store':>24}: {args.store}")
    for key, value in result.items():
        print(f"{key:>24}: {value:.2f}" if isinstance(value, float) else f"{key:>24}: {value}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
