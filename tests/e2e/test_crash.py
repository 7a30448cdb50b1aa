"""Acknowledged edits survive a SIGKILL of the server, and resubmitted edits apply once."""

from __future__ import annotations

import asyncio
import random
import re

import httpx
import pytest

from docserver.client import DocumentClient
from tests.conftest import create_document

TOKEN = re.compile(r"\[c\d+:\d+\]")


async def insert_tokens(client: DocumentClient, index: int, rng: random.Random, count: int,
                        acked: dict[str, str], sent: set[str], timeout: float = 60,
                        pause: float = 0.01) -> None:
    """Insert unique tokens at token boundaries, one edit at a time, recording what was acked.

    Inserting only between tokens keeps every token intact, so each acknowledged token must
    appear in the final text exactly once.
    """
    for n in range(count):
        token = f"[c{index}:{n}]"
        boundaries = [0] + [i + 1 for i, ch in enumerate(client.content) if ch == "]"]
        client.insert(rng.choice(boundaries), token)
        assert client.outstanding is not None
        edit_id = client.outstanding[0]
        sent.add(token)
        await client.wait_synced(timeout=timeout)
        if edit_id in client.acknowledged:
            acked[token] = edit_id
        await asyncio.sleep(rng.random() * pause)


@pytest.mark.parametrize("store", ["sqlite", "cassandra"])
async def test_sigkill_loses_no_acknowledged_edit(server_on, store: str) -> None:
    server = server_on(store)
    doc_id = create_document(server.base_url, "crash")
    clients = [DocumentClient(server.ws_url(doc_id), name=f"c{i}") for i in range(8)]
    for client in clients:
        await client.connect()
    acked: dict[str, str] = {}
    sent: set[str] = set()

    async def crash_and_restart() -> int:
        # Kill while edits are in flight, after a good number were acknowledged.
        while len(acked) < 200:
            await asyncio.sleep(0.01)
        acked_before_kill = len(acked)
        server.kill()
        await asyncio.sleep(0.5)
        await asyncio.to_thread(server.restart)
        return acked_before_kill

    rng = random.Random(7)
    typists = [
        insert_tokens(c, i, random.Random(rng.random()), 150, acked, sent)
        for i, c in enumerate(clients)
    ]
    try:
        results = await asyncio.gather(crash_and_restart(), *typists)
        for client in clients:
            await client.wait_synced(timeout=60)
        async with httpx.AsyncClient() as http:
            snapshot = (await http.get(f"{server.base_url}/docs/{doc_id}/snapshot")).json()
        for client in clients:
            await client.wait_for_revision(snapshot["revision"], timeout=60)
    finally:
        for client in clients:
            await client.close()

    acked_before_kill = results[0]
    assert acked_before_kill >= 200
    content = snapshot["content"]
    tokens = TOKEN.findall(content)
    assert "".join(tokens) == content, "text outside tokens: a token was split"
    assert len(tokens) == len(set(tokens)), "an edit was applied twice"
    missing = set(acked) - set(tokens)
    assert not missing, f"acknowledged edits lost: {sorted(missing)[:10]}"
    assert set(tokens) <= sent
    # Every client's edits were acknowledged in the end, across the restart.
    assert len(acked) == 8 * 150
    for client in clients:
        assert client.content == content


async def test_resubmitted_edit_is_acked_once_after_restart(server) -> None:
    import json

    import websockets

    doc_id = create_document(server.base_url, "resubmit", content="abc")
    edit = {"type": "op", "id": "e1", "rev": 0, "op": [3, "!"]}
    join = {"type": "join", "client": "resubmitter", "revision": None}

    async with websockets.connect(server.ws_url(doc_id)) as socket:
        await socket.send(json.dumps(join))
        await socket.recv()
        await socket.send(json.dumps(edit))
        first_ack = json.loads(await socket.recv())

    server.kill()
    await asyncio.to_thread(server.restart)

    # The client lost the acknowledgement and sends the same edit on its old base again.
    async with websockets.connect(server.ws_url(doc_id)) as socket:
        await socket.send(json.dumps(join))
        await socket.recv()
        await socket.send(json.dumps(edit))
        second_ack = json.loads(await socket.recv())

    snapshot = httpx.get(f"{server.base_url}/docs/{doc_id}/snapshot").json()
    assert first_ack == {"type": "ack", "id": "e1", "rev": 1}
    assert second_ack == first_ack
    assert snapshot["content"] == "abc!"
    assert snapshot["revision"] == 1
