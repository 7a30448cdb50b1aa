"""Real editing traces replayed edit by edit through the client end with the recorded text.

The traces are recordings of people typing (see tests/traces/README.md for their source and
licence, CC BY 4.0, by Joseph Gentle and Vadim Dalecky / JSON Joy).
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import ot
from docserver.client import DocumentClient
from tests.conftest import create_document

TRACES = Path(__file__).parent.parent / "traces"
SEQUENTIAL = ["seph-blog1", "sveltecomponent", "json-crdt-patch", "friendsforever_flat", "clownschool_flat"]


def load_trace(name: str) -> dict[str, Any]:
    with gzip.open(TRACES / f"{name}.json.gz", "rt", encoding="utf-8") as file:
        return json.load(file)  # type: ignore[no-any-return]


# The two largest traces also run on Cassandra. The others exercise the same path.
STORE_TRACES = [("sqlite", name) for name in SEQUENTIAL] + [("cassandra", "seph-blog1"), ("cassandra", "sveltecomponent")]


@pytest.mark.parametrize(("store", "name"), STORE_TRACES)
async def test_trace_replay_ends_with_recorded_text(server_on, store: str, name: str) -> None:
    server = server_on(store)
    trace = load_trace(name)
    doc_id = create_document(server.base_url, name, content=trace["startContent"])
    typist = DocumentClient(server.ws_url(doc_id), name="typist")
    watcher = DocumentClient(server.ws_url(doc_id), name="watcher", binary=True)
    await typist.connect()
    await watcher.connect()

    try:
        for transaction in trace["txns"]:
            for position, deleted, inserted in transaction["patches"]:
                typist.apply_local(ot.from_splice(len(typist.content), position, deleted, inserted))
            # Let the client's connection run between transactions, as a typist's would.
            await asyncio.sleep(0)
        await typist.wait_synced(timeout=120)

        async with httpx.AsyncClient() as http:
            snapshot = (await http.get(f"{server.base_url}/docs/{doc_id}/snapshot")).json()
        await watcher.wait_for_revision(snapshot["revision"], timeout=120)
    finally:
        await typist.close()
        await watcher.close()

    assert typist.content == trace["endContent"]
    assert snapshot["content"] == trace["endContent"]
    assert watcher.content == trace["endContent"]
