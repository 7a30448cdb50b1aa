"""Cassandra stopped in the middle of a session: errors, never a false acknowledgement, and
recovery once it is back.

This test stops and restarts the node that `scripts/cassandra` runs, so it needs that node
(not one run some other way).
"""

from __future__ import annotations

import asyncio
import random
import subprocess
from pathlib import Path

import httpx

from docserver.client import DocumentClient
from tests.conftest import create_document
from tests.e2e.test_crash import TOKEN, insert_tokens

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cassandra"


def cassandra(command: str) -> None:
    subprocess.run([str(SCRIPT), command], check=True, timeout=300, capture_output=True)


async def test_store_outage_rejects_edits_and_recovers(start_server, cassandra_url: str) -> None:
    server = start_server(store=cassandra_url)
    doc_id = create_document(server.base_url, "outage")
    clients = [DocumentClient(server.ws_url(doc_id), name=f"c{i}") for i in range(4)]
    for client in clients:
        await client.connect()
    acked: dict[str, str] = {}
    sent: set[str] = set()
    acked_during_outage: list[str] = []

    async def outage() -> None:
        while len(acked) < 100:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(cassandra, "stop")
        # Acknowledgements of edits stored before the node went down may still be in flight.
        await asyncio.sleep(0.5)
        before = set(acked)
        await asyncio.sleep(3)
        acked_during_outage.extend(set(acked) - before)
        # The service keeps responding to HTTP requests while its store is down.
        response = httpx.get(f"{server.base_url}/docs/{doc_id}", timeout=10)
        assert response.status_code in (200, 503)
        await asyncio.to_thread(cassandra, "start")

    rng = random.Random(3)
    typists = [
        insert_tokens(c, i, random.Random(rng.random()), 60, acked, sent, timeout=300, pause=0.2)
        for i, c in enumerate(clients)
    ]
    try:
        await asyncio.gather(outage(), *typists)
        async with httpx.AsyncClient() as http:
            snapshot = (await http.get(f"{server.base_url}/docs/{doc_id}/snapshot")).json()
        for client in clients:
            await client.wait_for_revision(snapshot["revision"], timeout=60)
    finally:
        for client in clients:
            await client.close()
        # Leave the node running for the tests after this one, whatever happened.
        await asyncio.to_thread(cassandra, "start")

    tokens = TOKEN.findall(snapshot["content"])
    assert len(tokens) == len(set(tokens)), "an edit was applied twice"
    assert set(acked) <= set(tokens), "an acknowledged edit is missing"
    assert len(acked) == 4 * 60
    assert acked_during_outage == [], "edits were acknowledged while the store was down"
    assert any(
        error["code"] == "store-unavailable" for client in clients for error in client.errors
    ), "no client was told that the store was unavailable"
    for client in clients:
        assert client.content == snapshot["content"]
    assert server.process is not None and server.process.poll() is None
