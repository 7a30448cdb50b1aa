"""Errors the document service reports to clients, each with a stable wire code.

Codes are grouped the way a client reacts to them:

* the client's fault: the message is rejected and nothing changes (`ClientError`);
* resync: the client's view of the document can't be reconciled and it must rejoin
  (`ResyncRequired`);
* retryable: the server could not do it now; the client may resubmit later (`Retryable`);
* protocol violations: the connection is closed with a WebSocket close code (`ProtocolViolation`).
"""

from __future__ import annotations

import enum

__all__ = [
    "ClientError",
    "CloseCode",
    "DocServerError",
    "ProtocolViolation",
    "ResyncRequired",
    "Retryable",
]


class CloseCode(enum.IntEnum):
    """WebSocket close codes the service uses; 4000-4999 are reserved for applications."""

    NORMAL = 1000
    GOING_AWAY = 1001
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011  # the document could not be loaded; reconnect later
    SERVICE_RESTART = 1012  # the server is shutting down (sent by uvicorn); reconnect
    TRY_AGAIN_LATER = 1013  # the client fell too far behind reading; reconnect
    MALFORMED_FRAME = 4400  # a frame that isn't a JSON (or msgpack) object
    NOT_JOINED = 4401  # a message other than `join` before `join`
    DOCUMENT_NOT_FOUND = 4404
    REPLACED = 4409  # the same client id joined on a newer connection
    DOCUMENT_MOVED = 4410  # the document is served elsewhere now; reconnect


class DocServerError(Exception):
    """Base class: an error with a wire code and a human-readable message."""

    code = "internal-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message


class ClientError(DocServerError):
    """The request was invalid; it was rejected and changed nothing."""

    code = "invalid-message"


class ResyncRequired(DocServerError):
    """The client's revision can't be served; it must rejoin to get the current content."""

    code = "resync-required"


class Retryable(DocServerError):
    """The server could not complete the request now; resubmitting it later may succeed."""

    code = "store-unavailable"


class ProtocolViolation(DocServerError):
    """The client broke the protocol; the connection is closed with `close_code`."""

    code = "protocol-violation"

    def __init__(self, message: str, *, close_code: CloseCode, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.close_code = close_code
