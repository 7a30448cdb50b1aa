"""One WebSocket connection to a document: reads frames, hands messages to the document, and
writes queued frames from a task of its own so that a slow client never delays the others."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from . import metrics
from .errors import ClientError, CloseCode, DocServerError, ProtocolViolation
from .host import DocumentHost, DocumentNotFound, OpenDocument
from .protocol import (
    ID_PATTERN,
    JSON_CODEC,
    MSGPACK_CODEC,
    MSGPACK_SUBPROTOCOL,
    Codec,
    CursorUpdate,
    Edit,
    Join,
    parse_message,
)
from .session import error_message
from .store import StoreUnavailable

__all__ = ["serve_connection"]

logger = logging.getLogger("docserver.connection")

_CLOSE = object()
# Most messages one array frame carries.
MAX_COALESCED = 256


class WebSocketPeer:
    """The `Peer` side of one connection: an outbound queue drained by a writer task."""

    def __init__(
        self,
        websocket: WebSocket,
        codec: Codec,
        queue_limit: int,
        queue_bytes_limit: int = 1 << 62,
        on_overflow: Callable[[WebSocketPeer], None] | None = None,
    ) -> None:
        self.websocket = websocket
        self.codec = codec
        self.client_id: str | None = None
        self.queue_limit = queue_limit
        self.queue_bytes_limit = queue_bytes_limit
        self.queued_bytes = 0
        self.on_overflow = on_overflow
        self.outbox: asyncio.Queue[Any] = asyncio.Queue()
        self.close_code: int | None = None
        self.dropped = False  # by `_overflow`
        self.writer = asyncio.create_task(self._write_loop())

    def enqueue(self, frame: str | bytes) -> None:
        if self.close_code is not None:
            return
        if self.outbox.qsize() >= self.queue_limit or self.queued_bytes >= self.queue_bytes_limit:
            self._overflow()
            return
        self.queued_bytes += len(frame)
        self.outbox.put_nowait(frame)

    def _overflow(self) -> None:
        # A close frame queued behind the unread ones would never be sent, so drop the queue
        # and the peer at once. The socket itself closes when the client reads again or its
        # TCP connection dies. Until then it keeps no more than the transport's buffer.
        logger.warning(
            "client %s is not reading: %d messages (%d bytes) queued; disconnecting it",
            self.client_id,
            self.outbox.qsize(),
            self.queued_bytes,
        )
        self.close_code = CloseCode.TRY_AGAIN_LATER
        self.dropped = True
        self.writer.cancel()
        self.outbox = asyncio.Queue()
        self.queued_bytes = 0
        if self.on_overflow is not None:
            self.on_overflow(self)
        task = asyncio.ensure_future(
            self.websocket.close(CloseCode.TRY_AGAIN_LATER, "too many unsent messages; reconnect")
        )
        task.add_done_callback(_ignore_result)

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued have been sent."""
        if self.close_code is None:
            self.close_code = code
            self.outbox.put_nowait((_CLOSE, code, reason))

    async def _write_loop(self) -> None:
        send = self.websocket.send_bytes if self.codec.binary else self.websocket.send_text
        try:
            while True:
                item = await self.outbox.get()
                if isinstance(item, tuple):
                    await self._close_now(item)
                    return

                # Frames that queued up while the last send was in flight go out as one array
                # frame: under load this turns many small writes into one.
                frames = [item]
                closing = None
                while len(frames) < MAX_COALESCED and not self.outbox.empty():
                    queued = self.outbox.get_nowait()
                    if isinstance(queued, tuple):
                        closing = queued
                        break
                    frames.append(queued)
                self.queued_bytes -= sum(len(frame) for frame in frames)
                await send(frames[0] if len(frames) == 1 else self.codec.join(frames))  # type: ignore[arg-type]
                if closing is not None:
                    await self._close_now(closing)
                    return
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client went away; the reader notices and cleans up.
            pass

    async def _close_now(self, item: tuple[object, int, str]) -> None:
        _, code, reason = item
        await self.websocket.close(code, reason)

    async def finish(self) -> None:
        self.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.writer


def _ignore_result(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def choose_codec(websocket: WebSocket) -> Codec:
    offered = websocket.scope.get("subprotocols") or []
    if MSGPACK_SUBPROTOCOL in offered:
        return MSGPACK_CODEC
    return JSON_CODEC


async def serve_connection(host: DocumentHost, websocket: WebSocket, doc_id: str) -> None:
    """Serve one client of one document until it disconnects."""
    codec = choose_codec(websocket)
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=codec.subprotocol if codec.subprotocol in offered else None)

    try:
        document = await host.open(doc_id)
    except DocumentNotFound:
        await websocket.close(CloseCode.DOCUMENT_NOT_FOUND, f"document {doc_id} not found")
        return
    except StoreUnavailable as exc:
        logger.error("could not load document %s: %s", doc_id, exc)
        await websocket.close(CloseCode.INTERNAL_ERROR, "document could not be loaded; retry")
        return

    settings = host.settings
    document.attach()
    reader: asyncio.Task[bool] | None = None

    def drop(peer: WebSocketPeer) -> None:
        # The client isn't reading, so it may never send again either: stop waiting for it,
        # which lets the document unload even while the TCP connection stays open.
        document.leave(peer)
        if reader is not None:
            reader.cancel()

    peer = WebSocketPeer(
        websocket, codec, settings.send_queue_limit, settings.send_queue_bytes, on_overflow=drop
    )
    metrics.CONNECTIONS.inc()
    client_gone = False
    try:
        reader = asyncio.create_task(_read_loop(document, peer, settings.join_timeout_seconds))
        try:
            client_gone = await reader
        except asyncio.CancelledError:
            if not peer.dropped:
                raise
            client_gone = True
    finally:
        metrics.CONNECTIONS.dec()
        document.leave(peer)
        document.detach()
        if not client_gone:
            # Let queued frames (such as a close) go out, but not for long.
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(peer.writer), timeout=1.0)
        await peer.finish()


async def _read_loop(document: OpenDocument, peer: WebSocketPeer, join_timeout: float) -> bool:
    """Handle the client's messages until either side closes; return True if the client did."""
    websocket = peer.websocket
    loop = asyncio.get_running_loop()
    join_deadline = loop.time() + join_timeout
    while peer.close_code is None:
        # A connection keeps its document loaded, so one that never joins must not linger,
        # however many other messages it sends.
        timeout = None if peer.client_id is not None else max(0.0, join_deadline - loop.time())
        try:
            event = await asyncio.wait_for(websocket.receive(), timeout=timeout)
        except TimeoutError:
            logger.info("closing a connection to %s that sent no join", document.doc_id)
            peer.close(CloseCode.NOT_JOINED, f"no join within {join_timeout:g} s")
            return False
        if event["type"] == "websocket.disconnect":
            return True
        frame = event.get("text")
        if frame is None:
            frame = event.get("bytes")
        if frame is None:
            continue

        decoded: object = None
        try:
            decoded = peer.codec.decode(frame)
            message = parse_message(decoded)
            assert isinstance(decoded, dict)  # parse_message accepts only objects
            _dispatch(document, peer, message, decoded["type"])
        except ProtocolViolation as violation:
            metrics.ERRORS_SENT.labels(violation.code).inc()
            logger.info("closing client %s: %s", peer.client_id, violation.message)
            peer.enqueue(peer.codec.encode(error_message(violation)))
            # A close reason is limited to 123 bytes.
            peer.close(violation.close_code, violation.message.encode()[:120].decode(errors="ignore"))
        except DocServerError as error:
            # Name the rejected edit only when its id is valid: an invalid one may not be
            # encodable (a lone surrogate fails when the frame is sent and stops the writer).
            edit_id = decoded.get("id") if isinstance(decoded, dict) else None
            if not isinstance(edit_id, str) or not ID_PATTERN.fullmatch(edit_id):
                edit_id = None
            metrics.ERRORS_SENT.labels(error.code).inc()
            peer.enqueue(peer.codec.encode(error_message(error, edit_id)))
    return False


def _dispatch(
    document: OpenDocument, peer: WebSocketPeer, message: Join | Edit | CursorUpdate, kind: str
) -> None:
    """Hand a valid message to the document. `kind` is its wire type, for error messages."""
    if isinstance(message, Join):
        if peer.client_id is not None and peer.client_id != message.client_id:
            raise ClientError(
                f"this connection already joined as {peer.client_id!r}", code="already-joined"
            )
        replaced = document.join(peer, message)
        if isinstance(replaced, WebSocketPeer):
            replaced.close(CloseCode.REPLACED, "the same client joined on a newer connection")
        return

    if peer.client_id is None:
        raise ProtocolViolation(
            f"the first message must be 'join', got {kind!r}",
            close_code=CloseCode.NOT_JOINED,
            code="not-joined",
        )
    if isinstance(message, Edit):
        document.submit(peer, message)
    else:
        document.update_cursor(peer, message)
