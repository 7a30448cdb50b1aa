"""Service settings: defaults here, overridden by a TOML file, then `DOCSERVER_*` variables,
then command-line options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "load_settings"]


class Settings(BaseSettings):
    """Everything an operator can set; `conf/docserver.toml` lists each with its default."""

    model_config = SettingsConfigDict(env_prefix="DOCSERVER_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("./data")
    # "sqlite" (a file in data_dir), "sqlite:///PATH" or "cassandra://HOST:PORT/KEYSPACE".
    store: str = "sqlite"
    log_level: str = "INFO"

    # Operations of each open document kept in memory to transform late edits and to catch
    # up reconnecting clients; an edit based on an older revision gets a resync-required error.
    history_limit: int = Field(2000, ge=1)
    # Estimated bytes of that history kept per document; huge operations are dropped sooner.
    history_bytes: int = Field(16 << 20, ge=1024)
    # Maximum document length in Unicode code points. An edit that would exceed it is rejected.
    max_document_chars: int = Field(1_000_000, ge=1)
    # Largest WebSocket message accepted; a larger one closes the connection with code 1009.
    max_message_bytes: int = Field(1 << 20, ge=1024)
    # Maximum HTTP request body in bytes. A larger one gets a 413 response.
    max_http_body_bytes: int = Field(64 << 10, ge=1024)
    # Edits stored in one append; more waiting edits go to the next append.
    max_batch: int = Field(256, ge=1)
    # Messages, and bytes, queued for one slow client before it is disconnected.
    send_queue_limit: int = Field(10_000, ge=1)
    send_queue_bytes: int = Field(16 << 20, ge=1024)
    # Seconds a new connection may take to send `join` before it is closed.
    join_timeout_seconds: float = Field(10.0, gt=0)
    # Seconds a document stays loaded after its last editor leaves.
    idle_unload_seconds: float = Field(30.0, ge=0)
    # Store attempts for one batch of edits before its authors get a retryable error.
    store_attempts: int = Field(3, ge=1)
    # Seconds between checks, while a document is open and idle, for revisions another server
    # stored; 0 turns the check off. Only matters while two servers both believe they own a
    # document, for example during a ring change.
    foreign_check_seconds: float = Field(2.0, ge=0)
    # Whether to offer permessage-deflate; it costs CPU per message and adds latency.
    websocket_compression: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: explicit values, then the environment, then the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from a TOML file (if given), the environment and explicit overrides.

    Overrides that are None are ignored, so unset command-line options don't mask the rest.
    """

    class FileSettings(Settings):
        model_config = SettingsConfigDict(
            env_prefix="DOCSERVER_", extra="forbid", toml_file=config_file
        )

    return FileSettings(**{key: value for key, value in overrides.items() if value is not None})
