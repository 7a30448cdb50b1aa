"""An asyncio client for the document service, for scripts, bots, tests and benchmarks.

The client keeps a local copy of the document that local edits change at once, and follows
the standard OT client protocol, with at most one edit awaiting acknowledgement:

    SYNCHRONIZED          --local edit-->  AWAITING_CONFIRM        (send it)
    AWAITING_CONFIRM      --local edit-->  AWAITING_WITH_BUFFER    (buffer it)
    AWAITING_WITH_BUFFER  --local edit-->  AWAITING_WITH_BUFFER    (compose into the buffer)
    AWAITING_CONFIRM      --ack-->         SYNCHRONIZED
    AWAITING_WITH_BUFFER  --ack-->         AWAITING_CONFIRM        (send the buffer)

A remote operation is transformed past the outstanding edit and the buffer before it is
applied locally. After a lost connection the client reconnects with backoff, joins with the
last revision it saw, applies what it missed, and resubmits its outstanding edit under the
same id. The server acknowledges an edit it had already committed instead of applying it twice.

Example::

    async with DocumentClient("ws://127.0.0.1:8080/docs/ID", name="bot") as client:
        client.insert(0, "hello ")
        await client.wait_synced()
        print(client.content)
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import json
import logging
import random
import secrets
from collections.abc import Callable
from typing import Any

import msgpack
import websockets
from websockets.exceptions import ConnectionClosed

import ot

__all__ = ["ClientState", "DocumentClient", "RemoteEditor", "ResyncLostEdits"]

logger = logging.getLogger("docserver.client")

# Close codes after which reconnecting can't help.
FINAL_CLOSE_CODES = {4400, 4401, 4404, 4409, 1009}
RETRYABLE_ERRORS = {"store-unavailable", "internal-error"}


class ClientState(enum.Enum):
    """The client's state in the OT client protocol."""

    SYNCHRONIZED = "synchronized"
    AWAITING_CONFIRM = "awaiting-confirm"
    AWAITING_WITH_BUFFER = "awaiting-with-buffer"


class ResyncLostEdits(Exception):
    """The server required a resync while local edits were unacknowledged; they are lost."""


class RemoteEditor:
    """Another editor of the document, with its cursor on the local copy."""

    __slots__ = ("client_id", "name", "color", "selection")

    def __init__(self, client_id: str, name: str, color: str, selection: ot.Selection | None) -> None:
        self.client_id = client_id
        self.name = name
        self.color = color
        self.selection = selection


class DocumentClient:
    """A connection to one document that keeps a local copy in sync."""

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None = None,
        name: str = "",
        color: str | None = None,
        binary: bool = False,
        reconnect: bool = True,
        on_remote: Callable[[str, int, ot.Operation], None] | None = None,
    ) -> None:
        self.url = url
        self.client_id = client_id or "c-" + secrets.token_hex(6)
        self.name = name
        self.color = color
        self.binary = binary
        self.reconnect = reconnect
        self.on_remote = on_remote

        self.content = ""
        self.revision: int | None = None  # None until the first init
        self.state = ClientState.SYNCHRONIZED
        self.outstanding: tuple[str, ot.Operation] | None = None
        self.buffer: ot.Operation | None = None
        self.editors: dict[str, RemoteEditor] = {}
        self.selection: ot.Selection | None = None
        self.acknowledged: dict[str, int] = {}  # edit id -> revision, for tests and bots
        self.errors: list[dict[str, Any]] = []
        self.close_code: int | None = None

        # Edit ids are unique per client id only if two instances that share one (a restarted
        # bot, a second tab) can't both produce "e1", so each instance has its own prefix.
        self._edit_prefix = secrets.token_hex(3)
        self._edit_ids = itertools.count(1)
        self._socket: Any = None
        self._runner: asyncio.Task[None] | None = None
        self._joined = asyncio.Event()
        self._changed = asyncio.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self._cursor_dirty = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> DocumentClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self, timeout: float = 10.0) -> None:
        """Connect and join; return once the initial content has arrived."""
        self._runner = asyncio.create_task(self._run(), name=f"client-{self.client_id}")
        waiter = asyncio.create_task(self._joined.wait())
        done, _ = await asyncio.wait({waiter, self._runner}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._runner in done:
            self._runner.result()
            raise ConnectionError(f"connection to {self.url} ended before joining")
        if not done:
            raise TimeoutError(f"no init from {self.url} within {timeout} s")

    async def close(self) -> None:
        """Close the connection; unacknowledged edits are dropped."""
        self._closing = True
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner

    async def drop_connection(self) -> None:
        """Close the socket abruptly, as a network failure would; the client reconnects."""
        if self._socket is not None:
            self._socket.transport.abort()

    # -- local edits -------------------------------------------------------------------------

    def insert(self, position: int, text: str) -> None:
        """Insert text at a code-point position of the local copy."""
        self.apply_local(ot.from_splice(len(self.content), position, 0, text))

    def delete(self, position: int, count: int) -> None:
        """Delete `count` code points at a position of the local copy."""
        self.apply_local(ot.from_splice(len(self.content), position, count, ""))

    def apply_local(self, op: ot.Operation) -> None:
        """Apply an operation to the local copy now and send it when the protocol allows."""
        if self.revision is None:
            raise RuntimeError("edit before the document was loaded; await connect() first")
        self.content = ot.apply(self.content, op)
        if self.selection is not None:
            self.selection = ot.transform_selection(self.selection, op, ot.Bias.AFTER)
        self._transform_remote_cursors(op)

        if self.state is ClientState.SYNCHRONIZED:
            self.outstanding = (self._next_edit_id(), op)
            self.state = ClientState.AWAITING_CONFIRM
            self._send_outstanding()
        elif self.state is ClientState.AWAITING_CONFIRM:
            self.buffer = op
            self.state = ClientState.AWAITING_WITH_BUFFER
        else:
            assert self.buffer is not None
            self.buffer = ot.compose(self.buffer, op)
        self._pulse()

    def update_cursor(self, anchor: int, head: int | None = None) -> None:
        """Set the local cursor or selection; it is sent once the client is synchronized."""
        self.selection = ot.Selection(anchor, anchor if head is None else head)
        self._cursor_dirty = True
        self._send_cursor_if_synced()

    @property
    def unsent_edits(self) -> bool:
        return self.state is not ClientState.SYNCHRONIZED

    # -- waiting -----------------------------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until `predicate()` is true, re-checking after every change."""
        async with asyncio.timeout(timeout):
            while not predicate():
                if self._failure is not None:
                    raise self._failure
                self._changed.clear()
                await self._changed.wait()

    async def wait_synced(self, timeout: float = 30.0) -> None:
        """Wait until every local edit is acknowledged."""
        await self.wait_until(lambda: self.state is ClientState.SYNCHRONIZED, timeout)

    async def wait_for_revision(self, revision: int, timeout: float = 30.0) -> None:
        """Wait until the local copy includes `revision`."""
        await self.wait_until(lambda: (self.revision or 0) >= revision, timeout)

    # -- connection --------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.05
        while not self._closing:
            subprotocol = "docserver.msgpack" if self.binary else "docserver.json"
            try:
                async with websockets.connect(
                    self.url,
                    subprotocols=[subprotocol],  # type: ignore[list-item]
                    compression=None,
                    max_size=None,
                    open_timeout=5,
                ) as socket:
                    self._socket = socket
                    delay = 0.05
                    await self._send({"type": "join", "client": self.client_id, "name": self.name, "revision": self.revision, **({"color": self.color} if self.color else {})})
                    async for frame in socket:
                        decoded = self._decode(frame)
                        # Under load the server sends several messages as one array frame.
                        for message in decoded if isinstance(decoded, list) else [decoded]:
                            self._handle(message)
                    self.close_code = socket.close_code
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                self.close_code = getattr(self._socket, "close_code", None) if self._socket else None
                logger.debug("client %s lost its connection: %r", self.client_id, exc)
            except Exception as exc:
                # A resync that lost edits, or a bug: either way the local copy can't be
                # trusted, so waiters get the error instead of a timeout.
                self._failure = exc
                self._pulse()
                raise
            finally:
                self._socket = None
                self._joined.clear()

            if self._closing or not self.reconnect or self.close_code in FINAL_CLOSE_CODES:
                self._failure = self._failure or ConnectionError(f"connection closed with code {self.close_code}")
                self._pulse()
                return
            # Jitter spreads the reconnects of many clients after a server restart.
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)

    def _decode(self, frame: str | bytes) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(frame, bytes):
            return msgpack.unpackb(frame, raw=False)  # type: ignore[no-any-return]
        return json.loads(frame)  # type: ignore[no-any-return]

    async def _send(self, message: dict[str, Any]) -> None:
        socket = self._socket
        if socket is None:
            return
        frame: str | bytes = msgpack.packb(message, use_bin_type=True) if self.binary else json.dumps(message, ensure_ascii=False)
        await socket.send(frame)

    def _send_soon(self, message: dict[str, Any]) -> None:
        if self._socket is None or not self._joined.is_set():
            return  # sent after the next join
        task = asyncio.ensure_future(self._send(message))
        task.add_done_callback(_ignore_connection_errors)

    def _send_outstanding(self) -> None:
        if self.outstanding is not None:
            edit_id, op = self.outstanding
            self._send_soon({"type": "op", "id": edit_id, "rev": self.revision, "op": op})

    def _send_cursor_if_synced(self) -> None:
        if self._cursor_dirty and self.selection is not None and self.state is ClientState.SYNCHRONIZED:
            self._cursor_dirty = False
            self._send_soon({"type": "updateCursor", "rev": self.revision, "anchor": self.selection.anchor, "head": self.selection.head})

    def _next_edit_id(self) -> str:
        return f"{self._edit_prefix}.{next(self._edit_ids)}"

    def _pulse(self) -> None:
        self._changed.set()

    # -- server messages ---------------------------------------------------------------------

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "init":
            self._on_init(message)
        elif kind == "ack":
            self._on_ack(message["id"], message["rev"])
        elif kind == "update":
            self._on_update(message["client"], message["rev"], message["op"])
        elif kind == "cursor":
            editor = self.editors.get(message["client"])
            if editor is not None and message["rev"] == self.revision and self.state is ClientState.SYNCHRONIZED:
                editor.selection = ot.Selection(message["anchor"], message["head"])
            elif editor is not None:
                # The cursor is on a revision the local copy has moved past or not reached.
                # Clamping it and showing it until the next update is close enough for a bot.
                editor.selection = ot.Selection(min(message["anchor"], len(self.content)), min(message["head"], len(self.content)))
        elif kind == "joined":
            self.editors[message["client"]] = RemoteEditor(message["client"], message["name"], message["color"], None)
        elif kind == "left":
            self.editors.pop(message["client"], None)
        elif kind == "error":
            self._on_error(message)
        self._pulse()

    def _on_init(self, message: dict[str, Any]) -> None:
        if "content" in message:
            if self.state is not ClientState.SYNCHRONIZED and self.revision is not None:
                lost = self.outstanding
                self._reset(message["content"], message["rev"])
                raise ResyncLostEdits(
                    "the server sent the whole document again, so unacknowledged edit"
                    f" {lost[0] if lost else ''} may or may not be in it"
                )
            self._reset(message["content"], message["rev"])
        else:
            for record in message["ops"]:
                if self.outstanding is not None and record["client"] == self.client_id and record["id"] == self.outstanding[0]:
                    self._on_ack(record["id"], record["rev"])
                else:
                    self._on_update(record["client"], record["rev"], record["op"])

        # The editors' cursors are on the current revision, so they replace the old ones only
        # after the missed operations moved those.
        self.editors = {
            e["client"]: RemoteEditor(
                e["client"], e["name"], e["color"],
                None if e["cursor"] is None else ot.Selection(e["cursor"]["anchor"], e["cursor"]["head"]),
            )
            for e in message["editors"]
        }
        self._joined.set()
        self._send_outstanding()
        self._send_cursor_if_synced()

    def _reset(self, content: str, revision: int) -> None:
        self.content = content
        self.revision = revision
        self.state = ClientState.SYNCHRONIZED
        self.outstanding = None
        self.buffer = None

    def _on_ack(self, edit_id: str, revision: int) -> None:
        if self.outstanding is None or self.outstanding[0] != edit_id:
            return  # the acknowledgement of a resubmission already acknowledged
        self.acknowledged[edit_id] = revision
        self.revision = revision
        if self.state is ClientState.AWAITING_WITH_BUFFER:
            assert self.buffer is not None
            self.outstanding = (self._next_edit_id(), self.buffer)
            self.buffer = None
            self.state = ClientState.AWAITING_CONFIRM
            self._send_outstanding()
        else:
            self.outstanding = None
            self.state = ClientState.SYNCHRONIZED
            self._send_cursor_if_synced()

    def _on_update(self, client_id: str, revision: int, op: ot.Operation) -> None:
        if self.outstanding is not None:
            edit_id, pending = self.outstanding
            op, pending = ot.transform(op, pending)
            self.outstanding = (edit_id, pending)
            if self.buffer is not None:
                op, self.buffer = ot.transform(op, self.buffer)
        self.content = ot.apply(self.content, op)
        self.revision = revision
        if self.selection is not None:
            self.selection = ot.transform_selection(self.selection, op, ot.Bias.BEFORE)
        self._transform_remote_cursors(op, author=client_id)
        if self.on_remote is not None:
            self.on_remote(client_id, revision, op)

    def _on_error(self, message: dict[str, Any]) -> None:
        self.errors.append(message)
        logger.warning("client %s got error %s: %s", self.client_id, message.get("code"), message.get("message"))
        ours = self.outstanding is not None and message.get("id") == self.outstanding[0]
        if not ours:
            return
        if message["code"] in RETRYABLE_ERRORS:
            asyncio.get_running_loop().call_later(0.2 * (0.5 + random.random()), self._send_outstanding)
        else:
            self._failure = ResyncLostEdits(f"edit {message.get('id')} was rejected: {message['code']}: {message['message']}")

    def _transform_remote_cursors(self, op: ot.Operation, author: str | None = None) -> None:
        for editor in self.editors.values():
            if editor.selection is not None:
                bias = ot.Bias.AFTER if editor.client_id == author else ot.Bias.BEFORE
                editor.selection = ot.transform_selection(editor.selection, op, bias)


def _ignore_connection_errors(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        exc = task.exception()
        if exc is not None and not isinstance(exc, ConnectionClosed):
            logger.warning("send failed: %r", exc)
