"""The contract of `Store`, run against every implementation the `store` fixture provides.

Each test uses documents with fresh random ids, so a store that keeps data between runs (a
shared Cassandra keyspace) gives the same results as an empty one.
"""

from __future__ import annotations

import asyncio

import uuid

import pytest

from docserver.store import (
    DocumentExists,
    DocumentMeta,
    OpRecord,
    RevisionConflict,
    Snapshot,
    Store,
)

EMOJI = "\U0001f600"


@pytest.fixture
def doc_id() -> str:
    return uuid.uuid4().hex


def records(first: int, count: int, client: str = "a") -> list[OpRecord]:
    """Consecutive records from revision `first`, each inserting one character at the start."""
    return [
        OpRecord(
            revision=revision,
            op=["x", revision - 1] if revision > 1 else ["x"],
            client_id=client,
            edit_id=f"e{revision}",
            committed_at=1_700_000_000.25 + revision,
        )
        for revision in range(first, first + count)
    ]


async def create(store: Store, doc_id: str, title: str = "title", content: str = "") -> DocumentMeta:
    meta = DocumentMeta(id=doc_id, title=title, created_at=1_700_000_000.5, version=0)
    await store.create_document(
        meta, Snapshot(doc_id=doc_id, version=0, revision=0, content=content, created_at=meta.created_at)
    )
    return meta


# metadata


async def test_created_document_is_returned(store: Store, doc_id: str) -> None:
    meta = await create(store, doc_id, title=f"caf\u00e9 {EMOJI}", content="hello")

    assert await store.get_document(doc_id) == meta
    assert await store.get_snapshot(doc_id, 0) == Snapshot(doc_id, 0, 0, "hello", meta.created_at)


async def test_create_existing_document_raises(store: Store, doc_id: str) -> None:
    meta = await create(store, doc_id, title="first", content="one")

    with pytest.raises(DocumentExists):
        await create(store, doc_id, title="second", content="two")

    assert await store.get_document(doc_id) == meta
    snapshot = await store.get_snapshot(doc_id, 0)
    assert snapshot is not None
    assert snapshot.content == "one"


async def test_unknown_document_is_empty(store: Store, doc_id: str) -> None:
    assert await store.get_document(doc_id) is None
    assert await store.get_snapshot(doc_id, 0) is None
    assert await store.read_ops(doc_id, 0, 0) == []
    assert await store.last_revision(doc_id, 0) is None


# the operation log


async def test_append_and_read_back(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    written = [
        OpRecord(1, [f"caf\u00e9 {EMOJI}"], "tab-1", "e1", 1_700_000_000.125),
        OpRecord(2, [2, -3, 2], "tab-2", "e:2", 1_700_000_001.5),
        OpRecord(3, ["\u00e9", 4], "tab-1", "e_3", 1_700_000_002.75),
    ]

    await store.append(doc_id, 0, written)

    assert await store.read_ops(doc_id, 0, 0) == written
    assert await store.last_revision(doc_id, 0) == 3


async def test_appends_extend_log(store: Store, doc_id: str) -> None:
    await create(store, doc_id)

    await store.append(doc_id, 0, records(1, 2))
    await store.append(doc_id, 0, records(3, 1))

    assert await store.read_ops(doc_id, 0, 0) == records(1, 3)


async def test_empty_append_writes_nothing(store: Store, doc_id: str) -> None:
    await create(store, doc_id)

    await store.append(doc_id, 0, [])

    assert await store.read_ops(doc_id, 0, 0) == []
    assert await store.last_revision(doc_id, 0) is None


async def test_read_after_revision(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    await store.append(doc_id, 0, records(1, 10))

    assert await store.read_ops(doc_id, 0, 7) == records(8, 3)
    assert await store.read_ops(doc_id, 0, 10) == []
    assert await store.read_ops(doc_id, 0, 99) == []


async def test_read_with_limit(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    await store.append(doc_id, 0, records(1, 10))

    assert await store.read_ops(doc_id, 0, 3, limit=2) == records(4, 2)
    assert await store.read_ops(doc_id, 0, 8, limit=5) == records(9, 2)


async def test_read_in_pages(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    await store.append(doc_id, 0, records(1, 10))

    pages = []
    after = 0
    while page := await store.read_ops(doc_id, 0, after, limit=3):
        pages.append([r.revision for r in page])
        after = page[-1].revision

    assert pages == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]]


async def test_existing_revision_conflicts(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    await store.append(doc_id, 0, records(1, 1, client="a"))

    with pytest.raises(RevisionConflict) as caught:
        await store.append(doc_id, 0, records(1, 1, client="b"))

    assert caught.value.revision == 1
    assert caught.value.doc_id == doc_id
    assert await store.read_ops(doc_id, 0, 0) == records(1, 1, client="a")


async def test_conflicting_batch_writes_nothing(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    await store.append(doc_id, 0, records(1, 2, client="a"))

    with pytest.raises(RevisionConflict) as caught:
        await store.append(doc_id, 0, records(2, 3, client="b"))

    assert caught.value.revision == 2
    assert await store.read_ops(doc_id, 0, 0) == records(1, 2, client="a")
    assert await store.last_revision(doc_id, 0) == 2


async def test_large_conflicting_batch_writes_nothing(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    await store.append(doc_id, 0, records(5, 1, client="other"))
    # About 250 KB in one append, with the conflicting revision last. The store doesn't
    # interpret operations, so each can simply insert 50,000 characters.
    large = [OpRecord(revision, ["y" * 50_000], "me", f"e{revision}", 1.0) for revision in range(1, 6)]

    with pytest.raises(RevisionConflict):
        await store.append(doc_id, 0, large)

    stored = await store.read_ops(doc_id, 0, 0)
    assert [record.client_id for record in stored] == ["other"]


async def test_concurrent_appends_conflict_alone(store: Store) -> None:
    doc_ids = [uuid.uuid4().hex for _ in range(20)]
    for doc_id in doc_ids:
        await create(store, doc_id)
    await store.append(doc_ids[7], 0, records(1, 1, client="other"))

    # Appends to many documents at once, as a busy server makes them; one of them conflicts.
    results = await asyncio.gather(
        *(store.append(doc_id, 0, records(1, 3)) for doc_id in doc_ids), return_exceptions=True
    )

    for doc_id, result in zip(doc_ids, results):
        stored = await store.read_ops(doc_id, 0, 0)
        if doc_id == doc_ids[7]:
            assert isinstance(result, RevisionConflict)
            assert stored == records(1, 1, client="other")
        else:
            assert result is None
            assert stored == records(1, 3)


async def test_versions_have_separate_logs(store: Store, doc_id: str) -> None:
    await create(store, doc_id)

    await store.append(doc_id, 0, records(1, 2, client="a"))
    await store.append(doc_id, 1, records(2, 1, client="b"))

    assert await store.read_ops(doc_id, 0, 0) == records(1, 2, client="a")
    assert await store.read_ops(doc_id, 1, 0) == records(2, 1, client="b")
    assert await store.last_revision(doc_id, 1) == 2


async def test_documents_have_separate_logs(store: Store, doc_id: str) -> None:
    other = uuid.uuid4().hex
    await create(store, doc_id)
    await create(store, other)

    await store.append(doc_id, 0, records(1, 2, client="a"))
    await store.append(other, 0, records(1, 1, client="b"))

    assert await store.read_ops(doc_id, 0, 0) == records(1, 2, client="a")
    assert await store.read_ops(other, 0, 0) == records(1, 1, client="b")


async def test_long_history_reads_back_in_pages(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    total = 100_000
    for first in range(1, total + 1, 1000):
        await store.append(doc_id, 0, records(first, 1000))

    revisions: list[int] = []
    after = 0
    while page := await store.read_ops(doc_id, 0, after, limit=5000):
        revisions.extend(r.revision for r in page)
        after = page[-1].revision

    assert await store.last_revision(doc_id, 0) == total
    assert len(revisions) == total
    assert revisions == list(range(1, total + 1))


# snapshots


async def test_snapshot_put_and_get(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    snapshot = Snapshot(doc_id, 1, 40, f"text {EMOJI}", 1_700_000_100.5)

    await store.put_snapshot(snapshot)

    assert await store.get_snapshot(doc_id, 1) == snapshot
    assert await store.get_snapshot(doc_id, 2) is None


async def test_snapshot_put_replaces(store: Store, doc_id: str) -> None:
    await create(store, doc_id)
    await store.put_snapshot(Snapshot(doc_id, 1, 40, "old", 1.0))

    await store.put_snapshot(Snapshot(doc_id, 1, 41, "new", 2.0))

    assert await store.get_snapshot(doc_id, 1) == Snapshot(doc_id, 1, 41, "new", 2.0)
