"""The `docserver` command."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from pydantic import ValidationError

from .config import load_settings

__all__ = ["main"]


@click.group()
def main() -> None:
    """Real-time collaborative plain-text editing server."""


@main.command()
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TOML settings file (see conf/docserver.toml).")
@click.option("--host", help="Address to listen on.  [default: 127.0.0.1]")
@click.option("--port", type=int, help="TCP port for HTTP and WebSocket.  [default: 8080]")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Folder of the embedded SQLite store.  [default: ./data]")
@click.option("--store", help="'sqlite', 'sqlite:///PATH' or 'cassandra://HOST:PORT/KEYSPACE'.  [default: sqlite]")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False), help="Logging threshold.  [default: INFO]")
def serve(
    config_file: Path | None,
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    store: str | None,
    log_level: str | None,
) -> None:
    """Start the document service: HTTP API, WebSocket endpoint and editor pages."""
    import uvicorn

    from web.app import create_app

    try:
        settings = load_settings(
            config_file, host=host, port=port, data_dir=data_dir, store=store, log_level=log_level
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise click.UsageError(f"invalid settings: {problems}") from exc
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        app = create_app(settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes,
        ws_per_message_deflate=settings.websocket_compression,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
        lifespan="on",
    )


@main.group()
def schema() -> None:
    """Manage the Cassandra schema."""


@schema.command("apply")
@click.option("--store", "store_url", default="cassandra://127.0.0.1:9042/docserver", show_default=True, help="Cassandra store URL.")
@click.option("--replication", default=None, help="Keyspace replication map, e.g. \"{'class': 'NetworkTopologyStrategy', 'dc1': 3}\".  [default: SimpleStrategy with one replica]")
def schema_apply(store_url: str, replication: str | None) -> None:
    """Create the keyspace and tables that are missing; report what exists and what was created."""
    from cassandra.cluster import Cluster

    from .store.cassandra import CassandraStore, apply_schema

    store = CassandraStore.from_url(store_url)
    cluster = Cluster(store.hosts, port=store.port, protocol_version=5)
    try:
        session = cluster.connect()
        for line in apply_schema(session, store.keyspace, replication):
            click.echo(line)
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
