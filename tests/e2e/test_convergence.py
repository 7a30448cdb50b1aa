"""Many clients editing one document over real WebSocket connections converge on the server's
snapshot."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from docserver.client import DocumentClient
from tests.conftest import create_document

# Strings that exercise code-point positions: astral emoji, a ZWJ sequence, combining marks,
# accented letters and both kinds of line break.
SAMPLES = ["a", "bc", "😀", "👩‍👩‍👧", "é", "e\u0301", "x\u0303\u0304", "\n", "\r\n", "ñandú", " "]


async def type_randomly(client: DocumentClient, rng: random.Random, edits: int, max_delay: float) -> None:
    """Make random inserts and deletes on the client's local copy, with random pauses."""
    for _ in range(edits):
        length = len(client.content)
        if length and rng.random() < 0.35:
            position = rng.randrange(length)
            client.delete(position, min(rng.randint(1, 4), length - position))
        else:
            client.insert(rng.randint(0, length), rng.choice(SAMPLES))
        await asyncio.sleep(rng.random() * max_delay)


async def wait_converged(base_url: str, doc_id: str, clients: list[DocumentClient]) -> dict[str, object]:
    for client in clients:
        await client.wait_synced(timeout=60)
    async with httpx.AsyncClient() as http:
        snapshot = (await http.get(f"{base_url}/docs/{doc_id}/snapshot")).json()
    for client in clients:
        await client.wait_for_revision(snapshot["revision"], timeout=60)
    return snapshot


# Every seed on the embedded store; fewer on Cassandra, whose conditional appends are slower.
STORE_SEEDS = [("sqlite", seed) for seed in range(20)] + [("cassandra", seed) for seed in range(4)]


@pytest.mark.parametrize(("store", "seed"), STORE_SEEDS)
async def test_eight_clients_converge_on_snapshot(server_on, store: str, seed: int) -> None:
    server = server_on(store)
    rng = random.Random(seed)
    doc_id = create_document(server.base_url, f"convergence {seed}")
    clients = [DocumentClient(server.ws_url(doc_id), name=f"typist {i}") for i in range(8)]
    for client in clients:
        await client.connect()

    try:
        await asyncio.gather(
            *(type_randomly(c, random.Random(rng.random()), 300, 0.004) for c in clients)
        )
        snapshot = await wait_converged(server.base_url, doc_id, clients)
    finally:
        for client in clients:
            await client.close()

    assert snapshot["revision"] > 0
    for client in clients:
        assert client.content == snapshot["content"], f"{client.name} diverged (seed {seed})"
        assert client.errors == []


@pytest.mark.parametrize("seed", range(5))
async def test_two_clients_converge_around_emoji_and_combining_marks(server, seed: int) -> None:
    rng = random.Random(1000 + seed)
    start = "👩‍👩‍👧 café e\u0301\r\nñ😀\n🇫🇷x\u0303\u0304"
    doc_id = create_document(server.base_url, "unicode", content=start)
    left = DocumentClient(server.ws_url(doc_id), name="left")
    right = DocumentClient(server.ws_url(doc_id), name="right", binary=True)
    await left.connect()
    await right.connect()
    assert left.content == start

    try:
        await asyncio.gather(
            type_randomly(left, random.Random(rng.random()), 200, 0.002),
            type_randomly(right, random.Random(rng.random()), 200, 0.002),
        )
        snapshot = await wait_converged(server.base_url, doc_id, [left, right])
    finally:
        await left.close()
        await right.close()

    assert left.content == snapshot["content"]
    assert right.content == snapshot["content"]
