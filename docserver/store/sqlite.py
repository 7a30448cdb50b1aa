"""The embedded store: one SQLite file in the data directory, in WAL mode.

SQLite calls block, so every call runs on one dedicated thread that owns the connection; the
event loop only awaits futures. `synchronous=FULL` makes each committed transaction reach the
disk before `append` returns, which is what lets the server acknowledge an edit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .base import DocumentMeta, OpRecord, Snapshot, Store
from .errors import DocumentExists, RevisionConflict, StoreUnavailable

__all__ = ["SQLiteStore"]

logger = logging.getLogger("docserver.store.sqlite")

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (doc_id, version)
) WITHOUT ROWID;
-- The primary key is the conditional append: a second row for one revision fails the insert.
CREATE TABLE IF NOT EXISTS operations (
    doc_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    op TEXT NOT NULL,
    client_id TEXT NOT NULL,
    edit_id TEXT NOT NULL,
    committed_at REAL NOT NULL,
    PRIMARY KEY (doc_id, version, revision)
) WITHOUT ROWID;
"""


class SQLiteStore(Store):
    """A `Store` kept in one SQLite database file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._pending_appends: list[tuple[list[tuple[Any, ...]], asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="sqlite-store"
        )
        await self._run(self._connect)
        logger.info("opened SQLite store %s", self.path)

    def _connect(self) -> None:
        # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        self._conn = conn

    async def close(self) -> None:
        if self._executor is None:
            return
        if self._flusher is not None and not self._flusher.done():
            await self._flusher
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)
        self._executor = None

    async def _run(self, func: Callable[[], T]) -> T:
        if self._executor is None:
            raise StoreUnavailable("the SQLite store is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, func)
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite request failed: {exc}") from exc

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailable("the SQLite store is not open")
        return self._conn

    async def create_document(self, meta: DocumentMeta, initial: Snapshot) -> None:
        def insert() -> None:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO documents (id, title, created_at, version) VALUES (?, ?, ?, ?)",
                    (meta.id, meta.title, meta.created_at, meta.version),
                )
                db.execute(
                    "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?)",
                    (
                        initial.doc_id,
                        initial.version,
                        initial.revision,
                        initial.content,
                        initial.created_at,
                    ),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        try:
            await self._run(insert)
        except sqlite3.IntegrityError as exc:
            raise DocumentExists(f"document {meta.id!r} already exists") from exc

    async def get_document(self, doc_id: str) -> DocumentMeta | None:
        def select() -> tuple[str, str, float, int] | None:
            return self._db.execute(  # type: ignore[no-any-return]
                "SELECT id, title, created_at, version FROM documents WHERE id = ?", (doc_id,)
            ).fetchone()

        row = await self._run(select)
        if row is None:
            return None
        return DocumentMeta(id=row[0], title=row[1], created_at=row[2], version=row[3])

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        if not records:
            return
        rows = [
            (
                doc_id,
                version,
                record.revision,
                json.dumps(record.op, ensure_ascii=False, separators=(",", ":")),
                record.client_id,
                record.edit_id,
                record.committed_at,
            )
            for record in records
        ]

        # Appends of all documents that arrive while a commit is in flight share the next
        # transaction, so a busy server pays one fsync per round rather than one per document.
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        self._pending_appends.append((rows, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush_appends())

        if not await done:
            existing = await self._first_existing(doc_id, version, [r.revision for r in records])
            raise RevisionConflict(doc_id, existing)

    async def _flush_appends(self) -> None:
        while self._pending_appends:
            group, self._pending_appends = self._pending_appends, []
            try:
                outcomes = await self._run(lambda: self._insert_group([rows for rows, _ in group]))
            except BaseException as exc:
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, done), applied in zip(group, outcomes):
                if not done.done():
                    done.set_result(applied)

    def _insert_group(self, group: list[list[tuple[Any, ...]]]) -> list[bool]:
        """Insert each append all or nothing, in one transaction; return which were applied."""
        db = self._db
        outcomes = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for rows in group:
                # A savepoint per append: a conflict undoes that append and no other.
                db.execute("SAVEPOINT append")
                try:
                    db.executemany("INSERT INTO operations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                except sqlite3.IntegrityError:
                    db.execute("ROLLBACK TO append")
                    outcomes.append(False)
                else:
                    outcomes.append(True)
                db.execute("RELEASE append")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return outcomes

    async def _first_existing(self, doc_id: str, version: int, revisions: list[int]) -> int:
        def select() -> int:
            for revision in revisions:
                row = self._db.execute(
                    "SELECT 1 FROM operations WHERE doc_id = ? AND version = ? AND revision = ?",
                    (doc_id, version, revision),
                ).fetchone()
                if row is not None:
                    return revision
            return revisions[0]

        return await self._run(select)

    async def read_ops(
        self,
        doc_id: str,
        version: int,
        after_revision: int,
        limit: int | None = None,
    ) -> list[OpRecord]:
        def select() -> list[tuple[int, str, str, str, float]]:
            return self._db.execute(
                "SELECT revision, op, client_id, edit_id, committed_at FROM operations"
                " WHERE doc_id = ? AND version = ? AND revision > ? ORDER BY revision LIMIT ?",
                (doc_id, version, after_revision, -1 if limit is None else limit),
            ).fetchall()

        rows = await self._run(select)
        return [
            OpRecord(
                revision=revision,
                op=json.loads(op),
                client_id=client_id,
                edit_id=edit_id,
                committed_at=committed_at,
            )
            for revision, op, client_id, edit_id, committed_at in rows
        ]

    async def last_revision(self, doc_id: str, version: int) -> int | None:
        def select() -> int | None:
            row = self._db.execute(
                "SELECT MAX(revision) FROM operations WHERE doc_id = ? AND version = ?",
                (doc_id, version),
            ).fetchone()
            return None if row is None else row[0]

        return await self._run(select)

    async def put_snapshot(self, snapshot: Snapshot) -> None:
        def insert() -> None:
            self._db.execute(
                "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?, ?)",
                (
                    snapshot.doc_id,
                    snapshot.version,
                    snapshot.revision,
                    snapshot.content,
                    snapshot.created_at,
                ),
            )

        await self._run(insert)

    async def get_snapshot(self, doc_id: str, version: int) -> Snapshot | None:
        def select() -> tuple[int, str, float] | None:
            return self._db.execute(  # type: ignore[no-any-return]
                "SELECT revision, content, created_at FROM snapshots"
                " WHERE doc_id = ? AND version = ?",
                (doc_id, version),
            ).fetchone()

        row = await self._run(select)
        if row is None:
            return None
        return Snapshot(
            doc_id=doc_id, version=version, revision=row[0], content=row[1], created_at=row[2]
        )
