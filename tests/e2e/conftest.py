"""`server_on(kind)`: a server on the embedded store or on the test Cassandra keyspace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import ServerProcess


@pytest.fixture
def server_on(
    start_server: Callable[..., ServerProcess], request: pytest.FixtureRequest
) -> Callable[..., ServerProcess]:
    def start(kind: str, **settings: Any) -> ServerProcess:
        if kind == "cassandra":
            settings["store"] = request.getfixturevalue("cassandra_url")
        elif kind != "sqlite":
            raise ValueError(f"unknown store kind {kind!r}")
        return start_server(**settings)

    return start
