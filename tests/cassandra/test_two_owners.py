"""Two document servers that both believe they own one document, on one Cassandra keyspace."""

from __future__ import annotations

import asyncio
import random

import pytest

import ot
from docserver.client import DocumentClient
from docserver.store.cassandra import CassandraStore
from tests.conftest import create_document
from tests.e2e.test_convergence import type_randomly


async def test_two_owners_commit_one_operation_per_revision(start_server, cassandra_url: str) -> None:
    first = start_server(store=cassandra_url)
    second = start_server(store=cassandra_url)
    doc_id = create_document(first.base_url, "two owners", content="shared text\n")

    clients = [DocumentClient(first.ws_url(doc_id), name=f"first {i}") for i in range(3)]
    clients += [DocumentClient(second.ws_url(doc_id), name=f"second {i}") for i in range(3)]
    for client in clients:
        await client.connect()

    rng = random.Random(11)
    try:
        await asyncio.gather(
            *(type_randomly(c, random.Random(rng.random()), 100, 0.01) for c in clients)
        )
        for client in clients:
            await client.wait_synced(timeout=60)

        store = CassandraStore.from_url(cassandra_url)
        await store.open()
        try:
            records = await store.read_ops(doc_id, 0, 0)
            snapshot = await store.get_snapshot(doc_id, 0)
        finally:
            await store.close()
        assert snapshot is not None

        # Each server learns of the other's last edits by its idle check of the store.
        last = records[-1].revision
        for client in clients:
            await client.wait_for_revision(last, timeout=30)
    finally:
        for client in clients:
            await client.close()

    assert [r.revision for r in records] == list(range(1, len(records) + 1))
    stored = snapshot.content
    for record in records:
        stored = ot.apply(stored, record.op)
    for client in clients:
        assert client.content == stored, f"{client.name} differs from the stored history"
    authors = {r.client_id for r in records}
    assert {c.client_id for c in clients} <= authors
    # The conditional append did arbitrate: some appends lost and were transformed again.
    logs = first.log_path.read_text() + second.log_path.read_text()
    assert "already stored; reloading" in logs
