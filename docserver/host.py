"""The document server: loads documents into sessions, serializes their edits through the
store, and delivers the resulting messages to connected peers.

Each open document has one commit task. Edits queue up while an append is in flight and are
stored together in the next one, so under load the store receives one write per batch rather
than one per edit, and an edit is acknowledged only after the append that contains it returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterable
from typing import Any, Protocol

import ot
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from . import metrics
from .config import Settings
from .errors import Retryable
from .protocol import Codec, CursorUpdate, Edit, Join
from .session import Broadcast, DocumentSession, Outgoing, PreparedBatch, Send, error_message
from .store import DocumentMeta, OpRecord, RevisionConflict, Store, StoreUnavailable

__all__ = ["DocumentHost", "DocumentNotFound", "OpenDocument", "Peer"]

logger = logging.getLogger("docserver.host")

# Re-reads and re-transforms after the store reported that another server committed first.
MAX_CONFLICT_ROUNDS = 20
READ_PAGE = 5000
# Edits stop being added to a batch once their estimated size passes this, which keeps one
# append far below the store's limits (a Cassandra mutation can't exceed 16 MiB by default).
MAX_BATCH_BYTES = 1 << 20


def edit_size(edit: Edit) -> int:
    """Estimate the stored size of an edit in bytes: its text, plus a little per part."""
    if edit.op is None:
        return len(edit.text) * 4 + 16
    return sum(len(part) * 4 if isinstance(part, str) else 8 for part in edit.op)


@dataclasses.dataclass(frozen=True, slots=True)
class StoredState:
    """A document as the store has it: metadata, current revision and content, and the log
    of the current version after its snapshot."""

    meta: DocumentMeta
    revision: int
    content: str
    records: list[OpRecord]


class DocumentNotFound(Exception):
    """No document with this id is stored."""


class Peer(Protocol):
    """A connected client, from the document server's side: a queue for outgoing frames."""

    client_id: str | None
    codec: Codec

    def enqueue(self, frame: str | bytes) -> None:
        """Queue a frame for sending without waiting; a full queue disconnects the peer."""


class OpenDocument:
    """A loaded document: its session, the peers connected to it and its commit task."""

    def __init__(self, host: DocumentHost, session: DocumentSession) -> None:
        self.host = host
        self.session = session
        self.peers: dict[str, Peer] = {}
        self.queue: asyncio.Queue[tuple[Peer, Edit]] = asyncio.Queue()
        self.committer = asyncio.create_task(
            self._commit_loop(), name=f"commit-{session.doc_id}"
        )
        self.unload_timer: asyncio.TimerHandle | None = None
        self.committing = False
        self.closed = False
        # Connections using the document, joined or not; it is unloaded only when none are.
        self.connections = 0

    @property
    def doc_id(self) -> str:
        return self.session.doc_id

    # -- peers -------------------------------------------------------------------------------

    def join(self, peer: Peer, join: Join) -> Peer | None:
        """Add a peer; return the peer it replaces if the same client id was connected."""
        previous = self.peers.get(join.client_id)
        self.peers[join.client_id] = peer
        peer.client_id = join.client_id
        self.deliver(self.session.join(join))
        return previous if previous is not peer else None

    def leave(self, peer: Peer) -> None:
        """Remove a peer unless a newer connection of the same client replaced it."""
        client_id = peer.client_id
        if client_id is None or self.peers.get(client_id) is not peer:
            return
        del self.peers[client_id]
        self.deliver(self.session.leave(client_id))

    def attach(self) -> None:
        """Count a connection that uses the document, keeping it loaded."""
        self.connections += 1
        self._cancel_unload()

    def detach(self) -> None:
        """Uncount a connection; the last one out starts the idle-unload timer."""
        self.connections -= 1
        if self.connections == 0:
            self._schedule_unload()

    def submit(self, peer: Peer, edit: Edit) -> None:
        """Queue an edit for the commit task."""
        self.queue.put_nowait((peer, edit))

    def update_cursor(self, peer: Peer, update: CursorUpdate) -> None:
        assert peer.client_id is not None
        self.deliver(self.session.update_cursor(peer.client_id, update))

    def deliver(self, outgoing: Iterable[Outgoing]) -> None:
        """Encode each message once per codec in use and queue the frames for their peers."""
        for item in outgoing:
            if isinstance(item, Send):
                if item.message["type"] == "error":
                    metrics.ERRORS_SENT.labels(item.message["code"]).inc()
                peer = self.peers.get(item.to)
                if peer is not None:
                    peer.enqueue(peer.codec.encode(item.message))
                continue

            frames: dict[int, str | bytes] = {}
            # A copy: a peer whose queue overflows leaves the document during the loop.
            for client_id, peer in list(self.peers.items()):
                if client_id == item.exclude:
                    continue
                key = id(peer.codec)
                frame = frames.get(key)
                if frame is None:
                    frame = frames[key] = peer.codec.encode(item.message)
                peer.enqueue(frame)

    # -- commits -----------------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        max_batch = self.host.settings.max_batch
        interval = self.host.settings.foreign_check_seconds or None
        # The flag as well as cancellation ends the loop: on Python 3.11 wait_for can swallow
        # a cancellation that arrives as the queue delivers an item.
        while not self.closed:
            try:
                first = await asyncio.wait_for(self.queue.get(), timeout=interval)
            except TimeoutError:
                await self._catch_up_quietly()
                continue
            items = [first]
            size = edit_size(first[1])
            while len(items) < max_batch and size < MAX_BATCH_BYTES and not self.queue.empty():
                item = self.queue.get_nowait()
                items.append(item)
                size += edit_size(item[1])
            self.committing = True
            try:
                await self._commit(items)
            except Exception:
                # A bug, not a store failure: keep serving the document, reject the batch.
                logger.exception("commit of %d edits to %s failed", len(items), self.doc_id)
                for peer, edit in items:
                    if peer.client_id is not None:
                        failure = Retryable("internal error while committing", code="internal-error")
                        self.deliver([Send(peer.client_id, error_message(failure, edit.edit_id))])
            finally:
                self.committing = False

    async def _catch_up_quietly(self) -> None:
        """Apply operations another server stored for this document while it was idle here.

        Only one server should own a document, but while ownership moves two can both believe
        they do. This check bounds how long the clients of the other one see stale text.
        """
        if not self.peers:
            return
        session = self.session
        try:
            last = await self.host.store.last_revision(session.doc_id, session.version)
            if last is not None and last > session.revision:
                logger.warning(
                    "document %s has revisions up to %d in the store but %d here; catching up",
                    session.doc_id,
                    last,
                    session.revision,
                )
                foreign = await self.host.read_all(session.doc_id, session.version, session.revision)
                self.deliver(session.apply_foreign(foreign))
        except StoreUnavailable as exc:
            logger.warning("could not check %s for foreign revisions: %s", session.doc_id, exc)

    async def _commit(self, items: list[tuple[Peer, Edit]]) -> None:
        # Peers that left since queueing still get their edits committed; the edit may be
        # resubmitted on a new connection and is then acknowledged there.
        edits = [(peer.client_id or "", edit) for peer, edit in items]
        settings = self.host.settings
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(StoreUnavailable),
                stop=stop_after_attempt(settings.store_attempts),
                wait=wait_exponential_jitter(multiplier=0.05, max=1.0),
                before_sleep=self._log_retry,
                reraise=True,
            ):
                with attempt:
                    batch = await self._store_batch(edits)
        except StoreUnavailable as exc:
            logger.error("store append for %s failed, edits rejected: %s", self.doc_id, exc)
            batch = self.session.prepare(edits)
            self.deliver(self.session.abort(batch, Retryable(f"the edit was not stored: {exc}")))
            return
        metrics.EDITS_COMMITTED.inc(len(batch.records))
        self.deliver(self.session.commit(batch))

    def _log_retry(self, retry_state: Any) -> None:
        logger.warning(
            "store append for %s failed (attempt %d), retrying: %s",
            self.doc_id,
            retry_state.attempt_number,
            retry_state.outcome.exception() if retry_state.outcome else None,
        )

    async def _store_batch(self, edits: list[tuple[str, Edit]]) -> PreparedBatch:
        """Prepare and append a batch, catching up with other writers until the append wins."""
        store = self.host.store
        session = self.session
        for _ in range(MAX_CONFLICT_ROUNDS):
            batch = session.prepare(edits)
            if not batch.records:
                return batch
            try:
                with metrics.APPEND_SECONDS.time():
                    await store.append(session.doc_id, session.version, batch.records)
                metrics.BATCH_EDITS.observe(len(batch.records))
                return batch
            except RevisionConflict as conflict:
                metrics.STORE_CONFLICTS.inc()
                # Another server (or an earlier attempt whose reply was lost) committed first;
                # infrequent but normal when document ownership moves.
                logger.warning(
                    "revision %d of %s already stored; reloading and transforming again",
                    conflict.revision,
                    session.doc_id,
                )
                foreign = await self.host.read_all(session.doc_id, session.version, session.revision)
                self.deliver(session.apply_foreign(foreign))
        raise StoreUnavailable(
            f"gave up after {MAX_CONFLICT_ROUNDS} conflicting appends to {session.doc_id}"
        )

    # -- unloading ---------------------------------------------------------------------------

    def _schedule_unload(self) -> None:
        """(Re)start the timer after which an unused document is unloaded."""
        self._cancel_unload()
        loop = asyncio.get_running_loop()
        self.unload_timer = loop.call_later(
            self.host.settings.idle_unload_seconds, self.host.unload_if_idle, self.doc_id
        )

    def _cancel_unload(self) -> None:
        if self.unload_timer is not None:
            self.unload_timer.cancel()
            self.unload_timer = None

    async def close(self) -> None:
        self.closed = True
        self._cancel_unload()
        self.committer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.committer


class DocumentHost:
    """All documents this server has open, loaded on first use."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.documents: dict[str, OpenDocument] = {}
        self._loading: dict[str, asyncio.Future[OpenDocument]] = {}

    async def open(self, doc_id: str) -> OpenDocument:
        """Return the open document, loading it from the store if needed."""
        document = self.documents.get(doc_id)
        if document is not None:
            return document

        # Concurrent joins of a document that isn't loaded yet share one load.
        loading = self._loading.get(doc_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[OpenDocument] = asyncio.get_running_loop().create_future()
        self._loading[doc_id] = future
        try:
            session = await self._load(doc_id)
            document = OpenDocument(self, session)
            self.documents[doc_id] = document
            metrics.OPEN_DOCUMENTS.set(len(self.documents))
            future.set_result(document)
            return document
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters, if any, re-raise it themselves
            raise
        finally:
            del self._loading[doc_id]

    async def _load(self, doc_id: str) -> DocumentSession:
        started = time.perf_counter()
        state = await self.read_state(doc_id)
        logger.info(
            "loaded document %s at revision %d (%d operations replayed) in %.1f ms",
            doc_id,
            state.revision,
            len(state.records),
            (time.perf_counter() - started) * 1000,
        )
        return DocumentSession(
            doc_id,
            version=state.meta.version,
            revision=state.revision,
            content=state.content,
            history=state.records[-self.settings.history_limit :],
            history_limit=self.settings.history_limit,
            history_bytes=self.settings.history_bytes,
            max_length=self.settings.max_document_chars,
        )

    async def read_state(self, doc_id: str) -> StoredState:
        """Rebuild a document's current state from its latest snapshot and the log after it."""
        meta = await self.store.get_document(doc_id)
        if meta is None:
            raise DocumentNotFound(doc_id)
        snapshot = await self.store.get_snapshot(doc_id, meta.version)
        if snapshot is None:
            raise StoreUnavailable(f"document {doc_id} has no snapshot for version {meta.version}")

        records = await self.read_all(doc_id, meta.version, snapshot.revision)
        content = snapshot.content
        for record in records:
            content = ot.apply(content, record.op)
        revision = records[-1].revision if records else snapshot.revision
        return StoredState(meta, revision, content, records)

    async def read_all(self, doc_id: str, version: int, after_revision: int) -> list[OpRecord]:
        """Read every operation of a document version after a revision, page by page."""
        records: list[OpRecord] = []
        while True:
            page = await self.store.read_ops(doc_id, version, after_revision, limit=READ_PAGE)
            records.extend(page)
            if len(page) < READ_PAGE:
                return records
            after_revision = page[-1].revision

    async def current(self, doc_id: str) -> DocumentSession:
        """Return the session of a document, loading it if needed; read it without awaiting.

        A document loaded here for a reader stays loaded for `idle_unload_seconds`, so that
        repeated snapshot requests don't replay its log each time.
        """
        document = await self.open(doc_id)
        if document.connections == 0 and document.unload_timer is None:
            document._schedule_unload()
        return document.session

    def unload_if_idle(self, doc_id: str) -> None:
        document = self.documents.get(doc_id)
        if document is None or document.connections:
            return
        if document.committing or not document.queue.empty():
            # Edits of connections that just closed are still being stored; try again later.
            document._schedule_unload()
            return
        del self.documents[doc_id]
        metrics.OPEN_DOCUMENTS.set(len(self.documents))
        asyncio.get_running_loop().create_task(document.close())
        logger.info("unloaded idle document %s at revision %d", doc_id, document.session.revision)

    async def close(self) -> None:
        for document in list(self.documents.values()):
            await document.close()
        self.documents.clear()

