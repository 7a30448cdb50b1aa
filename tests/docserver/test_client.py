"""The asyncio client against a real server: identity, reconnection and failures."""

from __future__ import annotations

import httpx
import pytest

from docserver.client import DocumentClient
from tests.conftest import create_document


async def test_restarted_client_with_same_id_is_not_deduplicated(server) -> None:
    doc_id = create_document(server.base_url, "same id")

    async with DocumentClient(server.ws_url(doc_id), client_id="bot") as first:
        first.insert(0, "first run. ")
        await first.wait_synced()
    async with DocumentClient(server.ws_url(doc_id), client_id="bot") as second:
        second.insert(len(second.content), "second run.")
        await second.wait_synced()
        local = second.content

    snapshot = httpx.get(f"{server.base_url}/docs/{doc_id}/snapshot").json()
    assert local == "first run. second run."
    assert snapshot["content"] == local


async def test_rejoin_moves_cursors_after_missed_ops(server) -> None:
    doc_id = create_document(server.base_url, "cursors")
    async with DocumentClient(server.ws_url(doc_id), name="writer") as writer:
        writer.insert(0, "x" * 100)
        await writer.wait_synced()
        writer.update_cursor(100)

        # A client that last saw revision 0 rejoins: the writer's cursor in init is at 100,
        # past the end of the text the client had before applying what it missed.
        late = DocumentClient(server.ws_url(doc_id), name="late")
        late.revision = 0
        async with late:
            await late.wait_for_revision(1, timeout=10)
            editor = late.editors[writer.client_id]
            assert late.content == "x" * 100
            assert editor.selection is not None
            assert editor.selection.head == 100


async def test_failure_in_background_reaches_waiters(server) -> None:
    doc_id = create_document(server.base_url, "failure")
    client = DocumentClient(server.ws_url(doc_id))
    await client.connect()
    try:
        # Corrupt the local copy so the next update can't apply, as a bug would.
        client.content = "not what the server has"
        async with DocumentClient(server.ws_url(doc_id)) as other:
            other.insert(0, "abc")
            await other.wait_synced()
        with pytest.raises(Exception) as caught:
            await client.wait_for_revision(1, timeout=10)
        assert not isinstance(caught.value, TimeoutError)
    finally:
        await client.close()
