"""The storage interface shared by the embedded SQLite store and the Cassandra store.

A document's state lives in three kinds of record:

* metadata (`DocumentMeta`): id, title, creation time and the current version;
* snapshots (`Snapshot`): the full content of a version at the revision it starts from;
* the operation log (`OpRecord`): append-only, partitioned by (document, version) and ordered
  by revision, each record carrying the client and edit id that produced it so that a
  resubmitted edit can be recognised.

Revisions count from 1 within a document and never restart. A version (a compacted snapshot
plus the log that follows it) starts at the revision its snapshot was taken at.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence

from ot import Operation

__all__ = [
    "DocumentMeta",
    "OpRecord",
    "Snapshot",
    "Store",
]


@dataclasses.dataclass(frozen=True, slots=True)
class DocumentMeta:
    """Metadata of one document."""

    id: str
    title: str
    created_at: float  # seconds since the Unix epoch
    version: int = 0  # the snapshot version new operations are appended to


@dataclasses.dataclass(frozen=True, slots=True)
class OpRecord:
    """One committed operation: the edit that took the document from revision - 1 to revision."""

    revision: int
    op: Operation
    client_id: str
    edit_id: str
    committed_at: float  # seconds since the Unix epoch


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """The content of a document version at the revision the version starts from."""

    doc_id: str
    version: int
    revision: int
    content: str
    created_at: float


class Store(abc.ABC):
    """Durable storage for documents; every method is a coroutine safe to call from the event loop.

    An implementation must not return from `append` before the records are durable: the
    document server acknowledges edits as soon as `append` returns.
    """

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create or check the schema."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and threads; the store can't be used afterwards."""

    @abc.abstractmethod
    async def create_document(self, meta: DocumentMeta, initial: Snapshot) -> None:
        """Store a new document with its version-0 snapshot.

        Raises `DocumentExists` if a document with that id is already stored.
        """

    @abc.abstractmethod
    async def get_document(self, doc_id: str) -> DocumentMeta | None:
        """Return the metadata of a document, or None if it is unknown."""

    @abc.abstractmethod
    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        """Append consecutive operations to the log of one document version, all or nothing.

        The append is conditional: if any of the revisions is already stored for that document
        version, nothing is written and `RevisionConflict` is raised: a server that
        believed it owned the document learns that another server committed first. Other failures
        raise `StoreUnavailable`; the caller must then assume nothing was written and must not
        acknowledge the edits (a retry after such a failure may find some records written and
        raise `RevisionConflict`).
        """

    @abc.abstractmethod
    async def read_ops(
        self,
        doc_id: str,
        version: int,
        after_revision: int,
        limit: int | None = None,
    ) -> list[OpRecord]:
        """Return the operations of a document version with revision > after_revision, in order.

        At most `limit` records are returned when it is given. A caller reads long histories in
        pages by passing the last revision it got as the next `after_revision`.
        """

    @abc.abstractmethod
    async def last_revision(self, doc_id: str, version: int) -> int | None:
        """Return the highest revision in the log of a document version, or None if it is empty."""

    @abc.abstractmethod
    async def put_snapshot(self, snapshot: Snapshot) -> None:
        """Store a snapshot; storing the same (document, version) again replaces it."""

    @abc.abstractmethod
    async def get_snapshot(self, doc_id: str, version: int) -> Snapshot | None:
        """Return the snapshot of a document version, or None if there is none."""
