"""Shared fixtures: a real `docserver serve` subprocess on a free loopback port.

`server` starts one with default settings for a single test. `start_server` starts servers with
settings of the test's choice, as `DOCSERVER_*` environment variables, and stops them all when
the test ends. A module that can share one server among its tests calls `launch_server` from a
module-scoped fixture. Settings variables of the calling environment are not passed on, so
every run starts from the defaults.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = ["ServerProcess", "create_document", "free_port", "launch_server"]

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command() -> list[str]:
    """Return the command that starts the service from the interpreter running the tests."""
    script = Path(sys.executable).with_name("docserver")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "docserver.cli", "serve"]


class ServerProcess:
    """A `docserver serve` subprocess bound to one port and one data folder.

    The port and data folder stay the same across `restart`, so a restarted server serves the
    documents the previous process stored. Output goes to `log_path`.
    """

    def __init__(self, folder: Path, settings: dict[str, Any]) -> None:
        self.port = free_port()
        self.data_dir = folder / "data"
        self.log_path = folder / "server.log"
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, doc_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/docs/{doc_id}"

    def start(self) -> None:
        """Start the process and wait until it responds to HTTP requests."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"server on port {self.port} is already running")

        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DOCSERVER_") or key.startswith("DOCSERVER_TEST_")
        }
        for name, value in self.settings.items():
            env[f"DOCSERVER_{name.upper()}"] = str(value)
        command = server_command() + [
            "--port", str(self.port),
            "--data-dir", str(self.data_dir),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with code {self.process.returncode} during startup:\n"
                    f"{self.log_tail()}"
                )
            try:
                httpx.get(self.base_url + "/", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"server did not respond on port {self.port} within {START_TIMEOUT} s:\n"
            f"{self.log_tail()}"
        )

    def kill(self) -> None:
        """Stop the process with SIGKILL, as a crash would."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the process with SIGTERM, and with SIGKILL if it doesn't exit in time."""
        try:
            self._signal(signal.SIGTERM)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self) -> None:
        """Stop the process if it still runs, then start a new one on the same port and data."""
        self.stop()
        self.start()

    def _signal(self, signum: int) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signum)
        process.wait(timeout=STOP_TIMEOUT)

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines the server wrote, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def launch_server(folder: Path, **settings: Any) -> ServerProcess:
    """Start a server that keeps its data and log in `folder`. The caller must `stop` it."""
    server = ServerProcess(folder, settings)
    server.start()
    return server


def create_document(base_url: str, title: str, content: str = "") -> str:
    """Create a document through the HTTP API and return its id."""
    response = httpx.post(f"{base_url}/docs", json={"title": title, "content": content})
    response.raise_for_status()
    doc_id: str = response.json()["id"]
    return doc_id


@pytest.fixture
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServerProcess]]:
    """Start servers with the given settings (e.g. `history_limit=5`), and stop them at teardown."""
    started: list[ServerProcess] = []

    def start(**settings: Any) -> ServerProcess:
        server = ServerProcess(tmp_path_factory.mktemp("server"), settings)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., ServerProcess]) -> ServerProcess:
    """A server with default settings, for one test."""
    return start_server()


CASSANDRA_VARIABLE = "DOCSERVER_TEST_CASSANDRA"
CASSANDRA_KEYSPACE = "docserver_test"


@pytest.fixture(scope="session")
def cassandra_url() -> str:
    """The store URL of a test keyspace on the node named by DOCSERVER_TEST_CASSANDRA.

    The schema is applied once per run. Without the variable the test is skipped, except in CI
    (CI set), where the Cassandra tests must run and the test fails instead.
    """
    address = os.environ.get(CASSANDRA_VARIABLE)
    if not address:
        message = (
            f"{CASSANDRA_VARIABLE} is not set: start a node with `scripts/cassandra start`"
            f" and set {CASSANDRA_VARIABLE}=127.0.0.1:9042, or run scripts/test"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    from cassandra.cluster import Cluster

    from docserver.store.cassandra import apply_schema

    host, _, port = address.partition(":")
    cluster = Cluster([host], port=int(port or 9042), protocol_version=5)
    try:
        apply_schema(cluster.connect(), CASSANDRA_KEYSPACE, None)
    finally:
        cluster.shutdown()
    return f"cassandra://{address}/{CASSANDRA_KEYSPACE}"
