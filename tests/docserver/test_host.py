"""DocumentHost and OpenDocument with fake peers and a real SQLite store.

Wrapper stores inject the failures of a real deployment: appends that fail and are retried,
appends whose reply is lost after the write, and another server committing first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import ot
from docserver.config import Settings
from docserver.host import DocumentHost, DocumentNotFound, OpenDocument
from docserver.protocol import JSON_CODEC, MSGPACK_CODEC, Codec, CursorUpdate, Edit, Join
from docserver.store import (
    DocumentMeta,
    OpRecord,
    Snapshot,
    Store,
    StoreUnavailable,
)
from docserver.store.sqlite import SQLiteStore

DOC = "doc1"


class FakePeer:
    """A `Peer` that keeps every frame queued for it."""

    def __init__(self, codec: Codec = JSON_CODEC) -> None:
        self.client_id: str | None = None
        self.codec = codec
        self.frames: list[str | bytes] = []

    def enqueue(self, frame: str | bytes) -> None:
        self.frames.append(frame)

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        decoded = [self.codec.decode(frame) for frame in self.frames]
        return [m for m in decoded if isinstance(m, dict) and kind in (None, m["type"])]


class WrapperStore(Store):
    """A store that passes every call to `inner`. Subclasses change `append`."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.appends: list[int] = []  # records per append call, failed or not

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def create_document(self, meta: DocumentMeta, initial: Snapshot) -> None:
        await self.inner.create_document(meta, initial)

    async def get_document(self, doc_id: str) -> DocumentMeta | None:
        return await self.inner.get_document(doc_id)

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        self.appends.append(len(records))
        await self.inner.append(doc_id, version, records)

    async def read_ops(
        self, doc_id: str, version: int, after_revision: int, limit: int | None = None
    ) -> list[OpRecord]:
        return await self.inner.read_ops(doc_id, version, after_revision, limit)

    async def last_revision(self, doc_id: str, version: int) -> int | None:
        return await self.inner.last_revision(doc_id, version)

    async def put_snapshot(self, snapshot: Snapshot) -> None:
        await self.inner.put_snapshot(snapshot)

    async def get_snapshot(self, doc_id: str, version: int) -> Snapshot | None:
        return await self.inner.get_snapshot(doc_id, version)


class FailingStore(WrapperStore):
    """Fails the next `failures` appends with StoreUnavailable, writing nothing."""

    def __init__(self, inner: Store, failures: int) -> None:
        super().__init__(inner)
        self.failures = failures

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        self.appends.append(len(records))
        if self.failures > 0:
            self.failures -= 1
            raise StoreUnavailable("injected failure")
        await self.inner.append(doc_id, version, records)


class LostReplyStore(WrapperStore):
    """Writes the first append, then raises StoreUnavailable as if the reply was lost."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.lost = False

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        self.appends.append(len(records))
        await self.inner.append(doc_id, version, records)
        if not self.lost:
            self.lost = True
            raise StoreUnavailable("injected lost reply")


class WrittenThenDownStore(WrapperStore):
    """Writes the first append but raises StoreUnavailable for it and the next `failures` - 1."""

    def __init__(self, inner: Store, failures: int) -> None:
        super().__init__(inner)
        self.failures = failures

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        self.appends.append(len(records))
        if self.failures > 0:
            self.failures -= 1
            if len(self.appends) == 1:
                await self.inner.append(doc_id, version, records)
            raise StoreUnavailable("injected failure")
        await self.inner.append(doc_id, version, records)


class RivalStore(WrapperStore):
    """Before the first append, another server commits `rival` ops at the same revisions."""

    def __init__(self, inner: Store, rival: list[ot.Operation]) -> None:
        super().__init__(inner)
        self.rival = rival

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        if self.rival:
            first = records[0].revision
            foreign = [
                OpRecord(first + n, op, "rival", f"r{n}", 0.0) for n, op in enumerate(self.rival)
            ]
            self.rival = []
            await self.inner.append(doc_id, version, foreign)
        await super().append(doc_id, version, records)


class SlowStore(WrapperStore):
    """Takes `delay` seconds per append, so edits queue up behind it."""

    def __init__(self, inner: Store, delay: float) -> None:
        super().__init__(inner)
        self.delay = delay

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        await asyncio.sleep(self.delay)
        await super().append(doc_id, version, records)


class BrokenStore(WrapperStore):
    """Raises an unexpected error from the next append, as a bug would."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.broken = True

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        self.appends.append(len(records))
        if self.broken:
            self.broken = False
            raise KeyError("injected bug")
        await self.inner.append(doc_id, version, records)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "docserver.sqlite3")
    await store.open()
    await store.create_document(
        DocumentMeta(id=DOC, title="t", created_at=0.0),
        Snapshot(doc_id=DOC, version=0, revision=0, content="hello", created_at=0.0),
    )
    yield store
    await store.close()


@pytest.fixture
async def make_host(tmp_path: Path) -> AsyncIterator[Callable[..., DocumentHost]]:
    """Build hosts over a given store, and close their documents at teardown."""
    hosts: list[DocumentHost] = []

    def make(store: Store, **settings: Any) -> DocumentHost:
        host = DocumentHost(store, Settings(data_dir=tmp_path, **settings))
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        await host.close()


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.005)


def join_peers(document: OpenDocument, *codecs: Codec) -> list[FakePeer]:
    """Join one peer per codec, as clients c0, c1, …, and forget the join traffic."""
    peers = []
    for n, codec in enumerate(codecs):
        peer = FakePeer(codec)
        document.join(peer, Join(client_id=f"c{n}", name=f"c{n}", color=None, revision=None))
        peers.append(peer)
    for peer in peers:
        peer.frames.clear()
    return peers


def insert(edit_id: str, rev: int, pos: int, text: str) -> Edit:
    return Edit(edit_id=edit_id, base_revision=rev, position=pos, text=text)


def replay(content: str, records: list[OpRecord]) -> str:
    for record in records:
        content = ot.apply(content, record.op)
    return content


# loading


async def test_open_loads_stored_state(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    await sqlite.append(DOC, 0, [OpRecord(1, [5, "!"], "a", "e1", 0.0), OpRecord(2, [">", 6], "a", "e2", 0.0)])

    document = await make_host(sqlite).open(DOC)

    assert document.session.content == ">hello!"
    assert document.session.revision == 2
    assert [r.edit_id for r in document.session.history_after(0)] == ["e1", "e2"]


async def test_open_unknown_document_raises(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    with pytest.raises(DocumentNotFound):
        await make_host(sqlite).open("nothing")


async def test_concurrent_opens_share_one_load(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    host = make_host(sqlite)

    first, second = await asyncio.gather(host.open(DOC), host.open(DOC))

    assert first is second


async def test_open_keeps_configured_history(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    await sqlite.append(DOC, 0, [OpRecord(n, [4 + n, "!"], "a", f"e{n}", 0.0) for n in range(1, 11)])

    document = await make_host(sqlite, history_limit=3).open(DOC)

    assert document.session.revision == 10
    assert document.session.oldest_revision == 7


# edits


async def test_edit_is_stored_then_acked(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    document = await make_host(sqlite).open(DOC)
    author, other = join_peers(document, JSON_CODEC, MSGPACK_CODEC)

    document.submit(author, insert("e1", 0, 5, "!"))
    await wait_until(lambda: bool(author.messages("ack")))

    stored = await sqlite.read_ops(DOC, 0, 0)
    assert [(r.revision, r.op, r.client_id, r.edit_id) for r in stored] == [(1, [5, "!"], "c0", "e1")]
    assert author.messages() == [{"type": "ack", "id": "e1", "rev": 1}]
    assert all(isinstance(frame, bytes) for frame in other.frames)
    assert other.messages() == [{"type": "update", "rev": 1, "op": [5, "!"], "client": "c0"}]
    assert document.session.content == "hello!"


async def test_invalid_edit_is_not_stored(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = WrapperStore(sqlite)
    document = await make_host(store).open(DOC)
    [author] = join_peers(document, JSON_CODEC)

    document.submit(author, insert("e1", 0, 9, "!"))
    await wait_until(lambda: bool(author.messages("error")))

    assert author.messages()[0]["code"] == "invalid-operation"
    assert author.messages()[0]["id"] == "e1"
    assert store.appends == []
    assert await sqlite.read_ops(DOC, 0, 0) == []


async def test_cursor_reaches_other_peers(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    document = await make_host(sqlite).open(DOC)
    author, other = join_peers(document, JSON_CODEC, JSON_CODEC)

    document.update_cursor(author, CursorUpdate(revision=0, anchor=1, head=4))

    assert author.messages() == []
    assert other.messages() == [{"type": "cursor", "client": "c0", "rev": 0, "anchor": 1, "head": 4}]


async def test_rejoin_returns_replaced_peer(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    document = await make_host(sqlite).open(DOC)
    old, other = join_peers(document, JSON_CODEC, JSON_CODEC)
    new = FakePeer()

    replaced = document.join(new, Join(client_id="c0", name="c0", color=None, revision=None))
    document.leave(old)

    assert replaced is old
    assert document.peers["c0"] is new
    assert other.messages("left") == []


async def test_last_detach_unloads_idle_document(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    host = make_host(sqlite, idle_unload_seconds=0)
    document = await host.open(DOC)
    document.attach()
    [peer] = join_peers(document, JSON_CODEC)

    document.leave(peer)
    await asyncio.sleep(0.05)
    assert DOC in host.documents, "unloaded while a connection was still attached"

    document.detach()
    await wait_until(lambda: DOC not in host.documents)
    assert (await host.open(DOC)) is not document


async def test_unload_waits_for_queued_edits(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = SlowStore(sqlite, delay=0.05)
    host = make_host(store, idle_unload_seconds=0)
    document = await host.open(DOC)
    document.attach()
    [peer] = join_peers(document, JSON_CODEC)
    for n in range(20):
        document.submit(peer, insert(f"e{n}", n, 0, "x"))

    # The connection closes with its edits still queued: they must all be stored.
    document.leave(peer)
    document.detach()
    await wait_until(lambda: DOC not in host.documents, timeout=10)

    assert await sqlite.last_revision(DOC, 0) == 20


# store failures


async def test_failed_append_is_retried(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = FailingStore(sqlite, failures=2)
    document = await make_host(store, store_attempts=3).open(DOC)
    [author] = join_peers(document, JSON_CODEC)

    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages()))

    assert author.messages() == [{"type": "ack", "id": "e1", "rev": 1}]
    assert store.appends == [1, 1, 1]
    assert len(await sqlite.read_ops(DOC, 0, 0)) == 1


async def test_exhausted_retries_reject_edits(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = FailingStore(sqlite, failures=2)
    document = await make_host(store, store_attempts=2).open(DOC)
    author, other = join_peers(document, JSON_CODEC, JSON_CODEC)

    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages()))

    error = author.messages()[0]
    assert error["type"] == "error"
    assert error["code"] == "store-unavailable"
    assert error["id"] == "e1"
    assert "injected failure" in error["message"]
    assert other.messages() == []
    assert document.session.revision == 0
    assert document.session.content == "hello"
    assert await sqlite.read_ops(DOC, 0, 0) == []


async def test_edit_after_outage_is_stored(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = FailingStore(sqlite, failures=2)
    document = await make_host(store, store_attempts=2).open(DOC)
    [author] = join_peers(document, JSON_CODEC)
    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages()))

    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages("ack")))

    assert author.messages("ack") == [{"type": "ack", "id": "e1", "rev": 1}]
    assert document.session.content == "Ahello"
    assert [r.edit_id for r in await sqlite.read_ops(DOC, 0, 0)] == ["e1"]


async def test_lost_reply_is_not_applied_twice(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = LostReplyStore(sqlite)
    document = await make_host(store).open(DOC)
    author, other = join_peers(document, JSON_CODEC, JSON_CODEC)

    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages()))

    # The retry finds the edit stored: catching up acks it, and the batch prepared again acks
    # it once more as a resubmission. Clients ignore an ack for an edit they no longer hold.
    stored = await sqlite.read_ops(DOC, 0, 0)
    assert [r.revision for r in stored] == [1]
    assert author.messages() == [{"type": "ack", "id": "e1", "rev": 1}] * 2
    assert other.messages() == [{"type": "update", "rev": 1, "op": ["A", 5], "client": "c0"}]
    assert document.session.content == "Ahello"


async def test_stored_edit_after_error_is_acked(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    # The author got an error for its edit, but the first attempt was written. The next commit
    # finds it in the store, and the author must learn of it before any later revision.
    store = WrittenThenDownStore(sqlite, failures=2)
    document = await make_host(store, store_attempts=2).open(DOC)
    author, other = join_peers(document, JSON_CODEC, JSON_CODEC)
    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages()))

    document.submit(other, insert("e2", 0, 5, "B"))
    await wait_until(lambda: bool(other.messages("ack")))

    assert [r.edit_id for r in await sqlite.read_ops(DOC, 0, 0)] == ["e1", "e2"]
    assert [m["type"] for m in author.messages()] == ["error", "ack", "update"]
    assert author.messages()[0]["code"] == "store-unavailable"
    assert author.messages()[1] == {"type": "ack", "id": "e1", "rev": 1}
    assert author.messages()[2]["rev"] == 2
    assert document.session.content == "AhelloB"


async def test_rival_commit_is_transformed_over(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = RivalStore(sqlite, rival=[["<", 5], [6, ">"]])
    document = await make_host(store).open(DOC)
    author, other = join_peers(document, JSON_CODEC, JSON_CODEC)

    document.submit(author, insert("e1", 0, 5, "!"))
    await wait_until(lambda: bool(author.messages("ack")))

    stored = await sqlite.read_ops(DOC, 0, 0)
    assert [r.revision for r in stored] == [1, 2, 3]
    assert [r.client_id for r in stored] == ["rival", "rival", "c0"]
    assert document.session.revision == 3
    assert document.session.content == replay("hello", stored)
    assert document.session.content == "<hello>!"
    assert author.messages("ack") == [{"type": "ack", "id": "e1", "rev": 3}]
    assert [m["rev"] for m in other.messages("update")] == [1, 2, 3]
    assert [m["rev"] for m in author.messages("update")] == [1, 2]


async def test_unexpected_error_sends_internal_error(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = BrokenStore(sqlite)
    document = await make_host(store).open(DOC)
    [author] = join_peers(document, JSON_CODEC)

    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages()))
    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(author.messages("ack")))

    assert author.messages()[0]["code"] == "internal-error"
    assert author.messages()[0]["id"] == "e1"
    assert author.messages("ack") == [{"type": "ack", "id": "e1", "rev": 1}]


# batching


async def test_queued_edits_share_appends(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    store = SlowStore(sqlite, delay=0.05)
    document = await make_host(store, max_batch=16).open(DOC)
    peers = join_peers(document, *[JSON_CODEC] * 40)

    for n, peer in enumerate(peers):
        document.submit(peer, insert(f"e{n}", 0, 0, "x"))
    await wait_until(lambda: all(peer.messages("ack") for peer in peers))

    stored = await sqlite.read_ops(DOC, 0, 0)
    assert len(stored) == 40
    assert len(store.appends) < 40
    assert max(store.appends) <= 16
    assert sum(store.appends) == 40
    assert document.session.content == "x" * 40 + "hello"
    assert sorted(peer.messages("ack")[0]["rev"] for peer in peers) == list(range(1, 41))


class OverflowingPeer(FakePeer):
    """A peer whose queue is full: like `WebSocketPeer`, it leaves the document when sent to."""

    def __init__(self, document: OpenDocument) -> None:
        super().__init__()
        self.document = document
        self.full = False

    def enqueue(self, frame: str | bytes) -> None:
        if self.full:
            self.document.leave(self)


async def test_overflowing_peer_leaves_mid_broadcast(sqlite: SQLiteStore, make_host: Callable[..., DocumentHost]) -> None:
    document = await make_host(sqlite).open(DOC)
    author, first = join_peers(document, JSON_CODEC, JSON_CODEC)
    slow = OverflowingPeer(document)
    document.join(slow, Join(client_id="slow", name="slow", color=None, revision=None))
    last = FakePeer()
    document.join(last, Join(client_id="last", name="last", color=None, revision=None))
    for peer in (author, first, last):
        peer.frames.clear()
    slow.full = True

    document.submit(author, insert("e1", 0, 0, "A"))
    await wait_until(lambda: bool(last.messages("update")))

    assert author.messages("ack") == [{"type": "ack", "id": "e1", "rev": 1}]
    assert [m["rev"] for m in first.messages("update")] == [1]
    assert [m["rev"] for m in last.messages("update")] == [1]
    assert "slow" not in document.peers
    assert [m["client"] for m in first.messages("left")] == ["slow"]
