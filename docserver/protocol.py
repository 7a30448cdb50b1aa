"""Client messages of the WebSocket protocol, their validation, and the frame codecs.

`docs/protocol.md` is the reference for every message. This module turns decoded frames into
typed messages and rejects anything else with a `ClientError` that names the field.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any, Final

import msgpack

import ot

from .errors import ClientError, CloseCode, ProtocolViolation

__all__ = [
    "JSON_SUBPROTOCOL",
    "MSGPACK_SUBPROTOCOL",
    "Codec",
    "CursorUpdate",
    "Edit",
    "Join",
    "ClientMessage",
    "JSON_CODEC",
    "MSGPACK_CODEC",
    "parse_message",
]

JSON_SUBPROTOCOL: Final = "docserver.json"
MSGPACK_SUBPROTOCOL: Final = "docserver.msgpack"

MAX_ID_LENGTH: Final = 64
MAX_NAME_LENGTH: Final = 100
# An edit touching more places than this is almost certainly not typed by a person.
MAX_OPERATION_PARTS: Final = 100_000
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
COLOR_PATTERN: Final = re.compile(r"#[0-9a-fA-F]{6}")


@dataclasses.dataclass(frozen=True, slots=True)
class Join:
    """The first message on a connection: who the client is and what it already has."""

    client_id: str
    name: str
    color: str | None
    revision: int | None  # the last revision the client saw, when it reconnects


@dataclasses.dataclass(frozen=True, slots=True)
class Edit:
    """An edit made on revision `base_revision`: either a full operation or a splice."""

    edit_id: str
    base_revision: int
    op: ot.Operation | None = None
    position: int = 0
    delete_count: int = 0
    text: str = ""

    def to_operation(self, document_length: int) -> ot.Operation:
        """Return the edit as an operation on a document of `document_length` code points."""
        if self.op is not None:
            return self.op
        return ot.from_splice(document_length, self.position, self.delete_count, self.text)


@dataclasses.dataclass(frozen=True, slots=True)
class CursorUpdate:
    """The client's cursor or selection on revision `revision`."""

    revision: int
    anchor: int
    head: int


ClientMessage = Join | Edit | CursorUpdate


def _field(message: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    if name not in message:
        raise ClientError(f"{message['type']!r} message is missing field {name!r}")
    value = message[name]
    # bool is an int subclass, and True is never a valid revision, position or length.
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ClientError(f"field {name!r} of {message['type']!r} must be {what}, got {value!r}")
    return value


def _check_text(name: str, value: str) -> None:
    # JSON can carry "\ud800"; such a string can't be stored as UTF-8 or shown by a browser.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ClientError(
            f"field {name!r} contains a lone surrogate at character {exc.start}",
            code="invalid-text",
        ) from exc


def _count(message: dict[str, Any], name: str) -> int:
    value: int = _field(message, name, int, "a non-negative integer")
    if value < 0 or value > 2**31:
        raise ClientError(f"field {name!r} of {message['type']!r} is out of range: {value}")
    return value


def _edit_id(message: dict[str, Any]) -> str:
    value: str = _field(message, "id", str, "a string")
    if not ID_PATTERN.fullmatch(value):
        raise ClientError(
            f"edit id {value!r} is invalid: use 1 to {MAX_ID_LENGTH} letters, digits or _.:-"
        )
    return value


def _parse_join(message: dict[str, Any]) -> Join:
    client_id: str = _field(message, "client", str, "a string")
    if not ID_PATTERN.fullmatch(client_id):
        raise ClientError(
            f"client id {client_id!r} is invalid: use 1 to {MAX_ID_LENGTH} letters, digits or _.:-"
        )
    name = message.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        raise ClientError(f"field 'name' must be a string of at most {MAX_NAME_LENGTH} characters")
    _check_text("name", name)
    color = message.get("color")
    if color is not None and (not isinstance(color, str) or not COLOR_PATTERN.fullmatch(color)):
        raise ClientError(f"field 'color' must be a colour like '#1f77b4', got {color!r}")
    revision = message.get("revision")
    if revision is not None:
        revision = _count(message, "revision")
    return Join(client_id=client_id, name=name, color=color, revision=revision)


def _parse_insert(message: dict[str, Any]) -> Edit:
    text: str = _field(message, "text", str, "a string")
    if not text:
        raise ClientError("field 'text' of 'insert' must not be empty")
    _check_text("text", text)
    return Edit(
        edit_id=_edit_id(message),
        base_revision=_count(message, "rev"),
        position=_count(message, "pos"),
        text=text,
    )


def _parse_delete(message: dict[str, Any]) -> Edit:
    length = _count(message, "len")
    if length == 0:
        raise ClientError("field 'len' of 'delete' must be positive")
    return Edit(
        edit_id=_edit_id(message),
        base_revision=_count(message, "rev"),
        position=_count(message, "pos"),
        delete_count=length,
    )


def _parse_op(message: dict[str, Any]) -> Edit:
    if "op" not in message:
        raise ClientError("'op' message is missing field 'op'")
    raw = message["op"]
    if isinstance(raw, list) and len(raw) > MAX_OPERATION_PARTS:
        raise ClientError(
            f"operation has {len(raw)} parts; the limit is {MAX_OPERATION_PARTS}",
            code="invalid-operation",
        )
    try:
        op = ot.check(raw)
    except ot.InvalidOperation as exc:
        raise ClientError(f"invalid operation: {exc}", code="invalid-operation") from exc
    return Edit(edit_id=_edit_id(message), base_revision=_count(message, "rev"), op=op)


def _parse_cursor(message: dict[str, Any]) -> CursorUpdate:
    anchor = _count(message, "anchor")
    head = _count(message, "head") if "head" in message else anchor
    return CursorUpdate(revision=_count(message, "rev"), anchor=anchor, head=head)


_PARSERS: dict[str, Callable[[dict[str, Any]], ClientMessage]] = {
    "join": _parse_join,
    "insert": _parse_insert,
    "delete": _parse_delete,
    "op": _parse_op,
    "updateCursor": _parse_cursor,
}


def parse_message(message: object) -> ClientMessage:
    """Validate a decoded frame and return the typed message; raise `ClientError` if invalid."""
    if not isinstance(message, dict):
        raise ClientError(f"a message must be an object, got {type(message).__name__}")
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ClientError("a message must have a string field 'type'")
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ClientError(
            f"unknown message type {kind!r}; expected one of: {', '.join(_PARSERS)}",
            code="unknown-message-type",
        )
    return parser(message)


@dataclasses.dataclass(frozen=True)
class Codec:
    """The framing of one connection: JSON text frames or msgpack binary frames."""

    subprotocol: str | None
    binary: bool
    encode: Callable[[dict[str, Any]], str | bytes]
    decode: Callable[[str | bytes], object]
    # Combines encoded messages into one frame holding an array of them, in order.
    join: Callable[[list[Any]], str | bytes]


def _json_encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def _json_decode(frame: str | bytes) -> object:
    if isinstance(frame, bytes):
        raise ProtocolViolation(
            "binary frame on a JSON connection; request the msgpack subprotocol to send binary",
            close_code=CloseCode.MALFORMED_FRAME,
            code="malformed-frame",
        )
    try:
        value = json.loads(frame)
    except ValueError as exc:
        raise ProtocolViolation(
            f"frame is not valid JSON: {exc}",
            close_code=CloseCode.MALFORMED_FRAME,
            code="malformed-frame",
        ) from exc
    except RecursionError as exc:
        # The decoder recurses once per nesting level; without this, "[[[[…" ends the
        # connection without a close frame.
        raise ProtocolViolation(
            "frame is not valid JSON: nested too deeply",
            close_code=CloseCode.MALFORMED_FRAME,
            code="malformed-frame",
        ) from exc
    return value


def _msgpack_encode(message: dict[str, Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)  # type: ignore[no-any-return]


def _msgpack_decode(frame: str | bytes) -> object:
    if isinstance(frame, str):
        raise ProtocolViolation(
            "text frame on a msgpack connection",
            close_code=CloseCode.MALFORMED_FRAME,
            code="malformed-frame",
        )
    try:
        # raw=False decodes strings as UTF-8 and fails on invalid sequences, which also
        # rules out surrogates; strict_map_key keeps map keys to str and bytes.
        return msgpack.unpackb(frame, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        raise ProtocolViolation(
            f"frame is not valid msgpack: {type(exc).__name__} {exc}".rstrip(),
            close_code=CloseCode.MALFORMED_FRAME,
            code="malformed-frame",
        ) from exc


def _json_join(frames: list[str]) -> str:
    return "[" + ",".join(frames) + "]"


def _msgpack_join(frames: list[bytes]) -> bytes:
    # An array header followed by the already-encoded elements is a valid msgpack array.
    count = len(frames)
    if count < 16:
        header = bytes([0x90 | count])
    elif count < 1 << 16:
        header = b"\xdc" + count.to_bytes(2, "big")
    else:
        header = b"\xdd" + count.to_bytes(4, "big")
    return header + b"".join(frames)


JSON_CODEC: Final = Codec(JSON_SUBPROTOCOL, False, _json_encode, _json_decode, _json_join)
MSGPACK_CODEC: Final = Codec(
    MSGPACK_SUBPROTOCOL, True, _msgpack_encode, _msgpack_decode, _msgpack_join
)
