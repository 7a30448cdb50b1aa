"""The `store` fixture: every contract test runs once per store implementation.

SQLite always runs. Cassandra runs when `DOCSERVER_TEST_CASSANDRA` is set to `host:port` of a
running node, such as the one `scripts/cassandra start` starts on 127.0.0.1:9042. The shared
`cassandra_url` fixture skips the Cassandra case without it, or fails it in CI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from docserver.store import Store
from docserver.store.sqlite import SQLiteStore


@pytest.fixture(params=["sqlite", "cassandra"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """An opened store, closed after the test."""
    opened: Store
    if request.param == "sqlite":
        opened = SQLiteStore(tmp_path / "docserver.sqlite3")
    else:
        # Tests use fresh document ids, so one keyspace serves every test and every run.
        url: str = request.getfixturevalue("cassandra_url")
        from docserver.store.cassandra import CassandraStore

        opened = CassandraStore.from_url(url)
    await opened.open()
    yield opened
    await opened.close()
