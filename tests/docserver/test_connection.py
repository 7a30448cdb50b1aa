"""The per-connection writer: frames queued during a send go out together as one array frame."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgpack

from docserver.connection import WebSocketPeer
from docserver.protocol import JSON_CODEC, MSGPACK_CODEC


class BlockingSocket:
    """A stand-in for Starlette's WebSocket whose first send waits until released."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.release = asyncio.Event()
        self.closed: tuple[int, str] | None = None

    async def send_text(self, frame: str) -> None:
        await self._send(frame)

    async def send_bytes(self, frame: bytes) -> None:
        await self._send(frame)

    async def _send(self, frame: Any) -> None:
        self.sent.append(frame)
        if len(self.sent) == 1:
            await self.release.wait()

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def test_queued_frames_are_sent_as_one_array() -> None:
    socket = BlockingSocket()
    peer = WebSocketPeer(socket, JSON_CODEC, queue_limit=100)  # type: ignore[arg-type]
    peer.enqueue(JSON_CODEC.encode({"type": "update", "rev": 1}))
    await asyncio.sleep(0)  # the writer takes the first frame and blocks in send

    for revision in (2, 3, 4):
        peer.enqueue(JSON_CODEC.encode({"type": "update", "rev": revision}))
    socket.release.set()
    await asyncio.sleep(0.01)
    await peer.finish()

    assert len(socket.sent) == 2
    assert json.loads(socket.sent[0]) == {"type": "update", "rev": 1}
    assert [m["rev"] for m in json.loads(socket.sent[1])] == [2, 3, 4]


async def test_close_after_coalesced_frames_keeps_order() -> None:
    socket = BlockingSocket()
    peer = WebSocketPeer(socket, MSGPACK_CODEC, queue_limit=100)  # type: ignore[arg-type]
    peer.enqueue(MSGPACK_CODEC.encode({"type": "ack", "id": "e1", "rev": 1}))
    await asyncio.sleep(0)

    peer.enqueue(MSGPACK_CODEC.encode({"type": "update", "rev": 2}))
    peer.enqueue(MSGPACK_CODEC.encode({"type": "update", "rev": 3}))
    peer.close(4400, "malformed frame")
    peer.enqueue(MSGPACK_CODEC.encode({"type": "update", "rev": 4}))  # after close: dropped
    socket.release.set()
    await asyncio.wait_for(peer.writer, timeout=1)

    assert [msgpack.unpackb(frame) for frame in socket.sent] == [
        {"type": "ack", "id": "e1", "rev": 1},
        [{"type": "update", "rev": 2}, {"type": "update", "rev": 3}],
    ]
    assert socket.closed == (4400, "malformed frame")


async def test_overflow_drops_queue_and_peer() -> None:
    socket = BlockingSocket()
    dropped: list[WebSocketPeer] = []
    peer = WebSocketPeer(socket, JSON_CODEC, queue_limit=3, on_overflow=dropped.append)  # type: ignore[arg-type]
    peer.enqueue(JSON_CODEC.encode({"type": "update", "rev": 1}))
    await asyncio.sleep(0)  # the client doesn't read: the first send never returns

    for revision in range(2, 6):
        peer.enqueue(JSON_CODEC.encode({"type": "update", "rev": revision}))
    await asyncio.sleep(0.01)

    assert dropped == [peer]
    assert peer.close_code == 1013
    assert peer.outbox.qsize() == 0
    assert peer.queued_bytes == 0
    assert peer.writer.cancelled()
    assert socket.closed is not None
    assert socket.closed[0] == 1013


async def test_byte_limit_counts_queued_frames() -> None:
    socket = BlockingSocket()
    dropped: list[WebSocketPeer] = []
    peer = WebSocketPeer(
        socket, JSON_CODEC, queue_limit=1000, queue_bytes_limit=2048, on_overflow=dropped.append  # type: ignore[arg-type]
    )
    peer.enqueue("x")
    await asyncio.sleep(0)

    peer.enqueue("y" * 1500)
    assert dropped == []
    peer.enqueue("z" * 1500)
    peer.enqueue("w")

    assert dropped == [peer]
