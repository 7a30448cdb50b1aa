"""Durable storage of documents: the `Store` interface and its implementations."""

from __future__ import annotations

from .base import DocumentMeta, OpRecord, Snapshot, Store
from .errors import DocumentExists, RevisionConflict, StoreError, StoreUnavailable

__all__ = [
    "DocumentExists",
    "DocumentMeta",
    "OpRecord",
    "RevisionConflict",
    "Snapshot",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "open_store",
]


def open_store(url: str, data_dir: str) -> Store:
    """Create the store named by a URL: `sqlite` (the default, a file in data_dir),
    `sqlite:///PATH`, or `cassandra://HOST[:PORT][,HOST...]/KEYSPACE`."""
    from pathlib import Path
    from urllib.parse import urlsplit

    if url in ("", "sqlite"):
        from .sqlite import SQLiteStore

        return SQLiteStore(Path(data_dir) / "docserver.sqlite3")

    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore(parts.path)
    if parts.scheme == "cassandra":
        try:
            from .cassandra import CassandraStore  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise ValueError(
                f"the Cassandra store needs cassandra-driver ({exc});"
                " install it with: pip install 'docserver[cassandra]'"
            ) from exc

        return CassandraStore.from_url(url)  # type: ignore[no-any-return,unused-ignore]
    raise ValueError(
        f"unsupported store URL {url!r}: expected 'sqlite', 'sqlite:///PATH'"
        " or 'cassandra://HOST:PORT/KEYSPACE'"
    )
