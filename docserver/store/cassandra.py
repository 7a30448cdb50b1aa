"""The scale-out store on Apache Cassandra, through the DataStax `cassandra-driver`.

Every statement is prepared once. The driver runs requests on its own I/O thread and calls back
from there. `_bridge` hands each result to the event loop, so no coroutine blocks on Cassandra.

Appends are lightweight transactions: a conditional batch of `INSERT ... IF NOT EXISTS` rows in
one (document, version) partition, applied only if none of the revisions exists. A rejected
batch raises `RevisionConflict`, which tells the document server that another server committed
first. A timed-out transaction may or may not have been applied, so it raises
`StoreUnavailable`; the server then retries, and a retry that finds its own rows already stored
gets `RevisionConflict` and reloads them, so nothing is acknowledged twice or lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cassandra import ConsistencyLevel, DriverException
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    ResponseFuture,
    Session,
)
from cassandra.policies import (
    DCAwareRoundRobinPolicy,
    ExponentialReconnectionPolicy,
    TokenAwarePolicy,
)
from cassandra.query import BatchStatement, BatchType, PreparedStatement
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from .base import DocumentMeta, OpRecord, Snapshot, Store
from .errors import DocumentExists, RevisionConflict, StoreUnavailable

__all__ = ["CassandraStore", "apply_schema"]

logger = logging.getLogger("docserver.store.cassandra")

DEFAULT_PORT = 9042
DEFAULT_KEYSPACE = "docserver"
SINGLE_NODE_REPLICATION = "{'class': 'SimpleStrategy', 'replication_factor': 1}"
PAGE_SIZE = 5000
READ_ATTEMPTS = 3


def _consistency(name: str) -> int:
    try:
        return int(getattr(ConsistencyLevel, name.upper()))
    except AttributeError:
        raise ValueError(f"unknown consistency level {name!r}") from None


class CassandraStore(Store):
    """A `Store` kept in one Cassandra keyspace."""

    def __init__(
        self,
        hosts: Sequence[str] = ("127.0.0.1",),
        port: int = DEFAULT_PORT,
        keyspace: str = DEFAULT_KEYSPACE,
        *,
        consistency: str = "LOCAL_QUORUM",
        serial_consistency: str = "LOCAL_SERIAL",
        request_timeout: float = 5.0,
        create_schema: bool = False,
    ) -> None:
        if not keyspace.isidentifier():
            raise ValueError(f"invalid keyspace name {keyspace!r}")
        self.hosts = list(hosts)
        self.port = port
        self.keyspace = keyspace
        self.consistency = _consistency(consistency)
        self.serial_consistency = _consistency(serial_consistency)
        self.request_timeout = request_timeout
        self.create_schema = create_schema
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._statements: dict[str, PreparedStatement] = {}

    @classmethod
    def from_url(cls, url: str) -> CassandraStore:
        """Build a store from `cassandra://HOST[:PORT][,HOST...]/KEYSPACE[?consistency=...]`."""
        parts = urlsplit(url)
        if parts.scheme != "cassandra" or not parts.netloc:
            raise ValueError(f"invalid Cassandra URL {url!r}: expected cassandra://HOST:PORT/KEYSPACE")
        hosts: list[str] = []
        port = DEFAULT_PORT
        for item in parts.netloc.split(","):
            host, _, port_text = item.partition(":")
            hosts.append(host)
            if port_text:
                port = int(port_text)
        keyspace = parts.path.strip("/") or DEFAULT_KEYSPACE
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return cls(
            hosts,
            port,
            keyspace,
            consistency=options.get("consistency", "LOCAL_QUORUM"),
            serial_consistency=options.get("serial_consistency", "LOCAL_SERIAL"),
        )

    # -- connection --------------------------------------------------------------------------

    async def open(self) -> None:
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
            consistency_level=self.consistency,
            serial_consistency_level=self.serial_consistency,
            request_timeout=self.request_timeout,
        )
        self._cluster = Cluster(
            self.hosts,
            port=self.port,
            protocol_version=5,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            connect_timeout=self.request_timeout,
            # The driver reconnects by itself after a node comes back, but its default backoff
            # grows to 10 minutes, far too long for edits that wait on the log.
            reconnection_policy=ExponentialReconnectionPolicy(base_delay=0.5, max_delay=10.0),
            idle_heartbeat_interval=10,
        )
        try:
            self._session = await asyncio.to_thread(self._cluster.connect)
        except (NoHostAvailable, DriverException, OSError) as exc:
            self._cluster.shutdown()
            self._cluster = None
            raise StoreUnavailable(f"cannot connect to Cassandra at {self.hosts}:{self.port}: {exc}") from exc

        if self.create_schema:
            await asyncio.to_thread(apply_schema, self._session, self.keyspace, None)
        else:
            self._check_schema()
        await asyncio.to_thread(self._prepare_all)
        logger.info("connected to Cassandra %s:%d, keyspace %s", self.hosts, self.port, self.keyspace)

    def _check_schema(self) -> None:
        assert self._cluster is not None
        keyspace = self._cluster.metadata.keyspaces.get(self.keyspace)
        tables = set(keyspace.tables) if keyspace is not None else set()
        missing = {"documents", "snapshots", "operations"} - tables
        if missing:
            raise StoreUnavailable(
                f"keyspace {self.keyspace!r} lacks tables {sorted(missing)};"
                " create them with `docserver schema apply --store URL`"
            )

    def _prepare_all(self) -> None:
        assert self._session is not None
        ks = self.keyspace
        texts = {
            "insert_document": f"INSERT INTO {ks}.documents (id, title, created_at, version)"
            " VALUES (?, ?, ?, ?) IF NOT EXISTS",
            "select_document": f"SELECT id, title, created_at, version FROM {ks}.documents WHERE id = ?",
            "insert_snapshot": f"INSERT INTO {ks}.snapshots (doc_id, version, revision, content, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            "insert_first_snapshot": f"INSERT INTO {ks}.snapshots"
            " (doc_id, version, revision, content, created_at) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS",
            "select_snapshot": f"SELECT revision, content, created_at FROM {ks}.snapshots"
            " WHERE doc_id = ? AND version = ?",
            "insert_op": f"INSERT INTO {ks}.operations"
            " (doc_id, version, revision, op, client_id, edit_id, committed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
            "select_ops": f"SELECT revision, op, client_id, edit_id, committed_at FROM {ks}.operations"
            " WHERE doc_id = ? AND version = ? AND revision > ?",
            "select_ops_limit": f"SELECT revision, op, client_id, edit_id, committed_at FROM {ks}.operations"
            " WHERE doc_id = ? AND version = ? AND revision > ? LIMIT ?",
            "select_last": f"SELECT revision FROM {ks}.operations"
            " WHERE doc_id = ? AND version = ? ORDER BY revision DESC LIMIT 1",
        }
        for name, text in texts.items():
            statement = self._session.prepare(text)
            statement.consistency_level = self.consistency
            statement.serial_consistency_level = self.serial_consistency
            self._statements[name] = statement

    async def close(self) -> None:
        cluster, self._cluster, self._session = self._cluster, None, None
        if cluster is not None:
            await asyncio.to_thread(cluster.shutdown)

    # -- requests ----------------------------------------------------------------------------

    async def _execute(self, statement: Any, parameters: Sequence[Any] | None = None, *, fetch_all: bool = True) -> list[Any]:
        """Run one statement and return all its rows, following pages."""
        session = self._session
        if session is None:
            raise StoreUnavailable("the Cassandra store is not open")
        try:
            future = session.execute_async(statement, parameters)
            rows: list[Any] = []
            while True:
                page = await _bridge(future)
                rows.extend(page)
                if not fetch_all or not future.has_more_pages:
                    return rows
                future.start_fetching_next_page()
        except (DriverException, NoHostAvailable, OSError) as exc:
            raise StoreUnavailable(f"Cassandra request failed: {type(exc).__name__}: {exc}") from exc

    async def _read(self, name: str, parameters: Sequence[Any]) -> list[Any]:
        """Run a read, retrying timeouts and unavailable replicas with backoff."""
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(StoreUnavailable),
            stop=stop_after_attempt(READ_ATTEMPTS),
            wait=wait_exponential_jitter(multiplier=0.05, max=1.0),
            reraise=True,
        ):
            with attempt:
                return await self._execute(self._statements[name], parameters)
        raise AssertionError("unreachable")

    # -- Store -------------------------------------------------------------------------------

    async def create_document(self, meta: DocumentMeta, initial: Snapshot) -> None:
        # The snapshot goes first, so a document whose metadata exists always has one. Both
        # inserts are conditional: a second create with the same id changes nothing.
        rows = await self._execute(
            self._statements["insert_first_snapshot"],
            (initial.doc_id, initial.version, initial.revision, initial.content, initial.created_at),
        )
        if rows and not rows[0].applied:
            raise DocumentExists(f"document {meta.id!r} already exists")
        rows = await self._execute(
            self._statements["insert_document"], (meta.id, meta.title, meta.created_at, meta.version)
        )
        if rows and not rows[0].applied:
            raise DocumentExists(f"document {meta.id!r} already exists")

    async def get_document(self, doc_id: str) -> DocumentMeta | None:
        rows = await self._read("select_document", (doc_id,))
        if not rows:
            return None
        row = rows[0]
        return DocumentMeta(id=row.id, title=row.title or "", created_at=row.created_at, version=row.version)

    async def append(self, doc_id: str, version: int, records: Sequence[OpRecord]) -> None:
        # One conditional batch, so the append is all or nothing. A 200 KiB batch in one
        # partition was accepted by Cassandra 5.0.9 despite batch_size_fail_threshold (50 KiB).
        # The document server keeps each append near 1 MiB, far below the mutation size limit
        # (half a commit log segment).
        statement = self._statements["insert_op"]
        batch = BatchStatement(
            batch_type=BatchType.UNLOGGED,
            consistency_level=self.consistency,
            serial_consistency_level=self.serial_consistency,
        )
        for record in records:
            op_text = json.dumps(record.op, ensure_ascii=False, separators=(",", ":"))
            batch.add(
                statement,
                (doc_id, version, record.revision, op_text, record.client_id, record.edit_id, record.committed_at),
            )
        if records:
            await self._append_batch(doc_id, batch)

    async def _append_batch(self, doc_id: str, batch: BatchStatement) -> None:
        rows = await self._execute(batch)
        if rows and not rows[0].applied:
            # A rejected conditional batch returns the existing rows; the first names the revision.
            existing = getattr(rows[0], "revision", None)
            raise RevisionConflict(doc_id, int(existing) if existing is not None else -1)

    async def read_ops(self, doc_id: str, version: int, after_revision: int, limit: int | None = None) -> list[OpRecord]:
        if limit is None:
            rows = await self._read("select_ops", (doc_id, version, after_revision))
        else:
            rows = await self._read("select_ops_limit", (doc_id, version, after_revision, limit))
        return [
            OpRecord(revision=row.revision, op=json.loads(row.op), client_id=row.client_id,
                     edit_id=row.edit_id, committed_at=row.committed_at)
            for row in rows
        ]

    async def last_revision(self, doc_id: str, version: int) -> int | None:
        rows = await self._read("select_last", (doc_id, version))
        return int(rows[0].revision) if rows else None

    async def put_snapshot(self, snapshot: Snapshot) -> None:
        await self._execute(
            self._statements["insert_snapshot"],
            (snapshot.doc_id, snapshot.version, snapshot.revision, snapshot.content, snapshot.created_at),
        )

    async def get_snapshot(self, doc_id: str, version: int) -> Snapshot | None:
        rows = await self._read("select_snapshot", (doc_id, version))
        if not rows:
            return None
        row = rows[0]
        return Snapshot(doc_id=doc_id, version=version, revision=row.revision, content=row.content,
                        created_at=row.created_at)


def _bridge(future: ResponseFuture) -> asyncio.Future[list[Any]]:
    """Return an asyncio future that resolves with the current page of a driver future."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[list[Any]] = loop.create_future()

    def on_rows(rows: list[Any]) -> None:
        loop.call_soon_threadsafe(_settle, result, rows, None)

    def on_error(exc: BaseException) -> None:
        loop.call_soon_threadsafe(_settle, result, None, exc)

    # The driver clears its callbacks after each page, so they are added for every page.
    future.add_callbacks(on_rows, on_error)
    return result


def _settle(result: asyncio.Future[list[Any]], rows: list[Any] | None, exc: BaseException | None) -> None:
    if result.done():
        return
    if exc is not None:
        result.set_exception(exc)
    else:
        result.set_result(list(rows or []))


def schema_statements(keyspace: str, replication: str | None = None) -> list[str]:
    """Return the CQL statements of `schema.cql` for a keyspace and replication setting."""
    text = resources.files("docserver.store").joinpath("schema.cql").read_text(encoding="utf-8")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    code = code.replace("{keyspace}", keyspace).replace("{replication}", replication or SINGLE_NODE_REPLICATION)
    return [statement.strip() for statement in code.split(";") if statement.strip()]


def apply_schema(session: Session, keyspace: str, replication: str | None) -> list[str]:
    """Create the keyspace and tables that don't exist yet; return a line per statement run."""
    existing_tables = set()
    metadata = session.cluster.metadata.keyspaces.get(keyspace)
    if metadata is not None:
        existing_tables = set(metadata.tables)
    report = []
    for statement in schema_statements(keyspace, replication):
        session.execute(statement, timeout=60)
        first_line = " ".join(statement.split()[:6])
        name = statement.split("(")[0].split()[-1].split(".")[-1]
        if statement.upper().startswith("CREATE KEYSPACE"):
            state = "exists" if metadata is not None else "created"
        else:
            state = "exists" if name in existing_tables else "created"
        report.append(f"{state}: {first_line}")
    return report
