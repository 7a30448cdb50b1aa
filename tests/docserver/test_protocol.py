"""Client message validation and the JSON and msgpack frame codecs."""

from __future__ import annotations

from typing import Any

import msgpack
import pytest

from docserver.errors import ClientError, ProtocolViolation
from docserver.protocol import (
    JSON_CODEC,
    JSON_SUBPROTOCOL,
    MSGPACK_CODEC,
    MSGPACK_SUBPROTOCOL,
    CursorUpdate,
    Edit,
    Join,
    parse_message,
)

EMOJI = "\U0001f600"


# parse_message: valid messages


def test_join_with_every_field() -> None:
    message = {"type": "join", "client": "tab-1", "name": "Ada", "color": "#1f77b4", "revision": 7}

    assert parse_message(message) == Join(client_id="tab-1", name="Ada", color="#1f77b4", revision=7)


def test_join_defaults() -> None:
    assert parse_message({"type": "join", "client": "a"}) == Join("a", "", None, None)


def test_join_revision_null_is_absent() -> None:
    assert parse_message({"type": "join", "client": "a", "revision": None}) == Join("a", "", None, None)


def test_insert_becomes_splice() -> None:
    edit = parse_message({"type": "insert", "id": "e1", "rev": 3, "pos": 1, "text": EMOJI})

    assert edit == Edit(edit_id="e1", base_revision=3, position=1, text=EMOJI)
    assert isinstance(edit, Edit)
    assert edit.to_operation(4) == [1, EMOJI, 3]


def test_delete_becomes_splice() -> None:
    edit = parse_message({"type": "delete", "id": "e2", "rev": 0, "pos": 2, "len": 3})

    assert edit == Edit(edit_id="e2", base_revision=0, position=2, delete_count=3)
    assert isinstance(edit, Edit)
    assert edit.to_operation(6) == [2, -3, 1]


def test_op_is_normalized() -> None:
    edit = parse_message({"type": "op", "id": "e3", "rev": 2, "op": [1, 1, -1, "x"]})

    assert isinstance(edit, Edit)
    assert edit.op == [2, "x", -1]
    assert edit.to_operation(99) == [2, "x", -1]


def test_cursor_without_head_is_collapsed() -> None:
    assert parse_message({"type": "updateCursor", "rev": 4, "anchor": 2}) == CursorUpdate(4, 2, 2)


def test_cursor_with_head_is_selection() -> None:
    assert parse_message({"type": "updateCursor", "rev": 4, "anchor": 5, "head": 1}) == CursorUpdate(4, 5, 1)


# parse_message: invalid messages, each with its code and a part of its message

JOIN = {"type": "join", "client": "a"}
INSERT = {"type": "insert", "id": "e1", "rev": 0, "pos": 0, "text": "x"}
DELETE = {"type": "delete", "id": "e1", "rev": 0, "pos": 0, "len": 1}
OP = {"type": "op", "id": "e1", "rev": 0, "op": ["x"]}
CURSOR = {"type": "updateCursor", "rev": 0, "anchor": 0}


REMOVE = object()


def changed(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Return a copy of `base` with fields replaced, or dropped where the value is REMOVE."""
    message = dict(base)
    for name, value in fields.items():
        if value is REMOVE:
            del message[name]
        else:
            message[name] = value
    return message


INVALID = [
    pytest.param([1, 2], "invalid-message", "must be an object, got list", id="array"),
    pytest.param("join", "invalid-message", "must be an object, got str", id="string"),
    pytest.param(None, "invalid-message", "must be an object, got NoneType", id="null"),
    pytest.param({}, "invalid-message", "string field 'type'", id="no type"),
    pytest.param({"type": 1}, "invalid-message", "string field 'type'", id="type not string"),
    pytest.param({"type": "edit"}, "unknown-message-type", "unknown message type 'edit'", id="unknown type"),
    pytest.param({"type": "Join"}, "unknown-message-type", "expected one of: join,", id="type case"),
    pytest.param({"type": "join"}, "invalid-message", "missing field 'client'", id="join no client"),
    pytest.param(changed(JOIN, client=7), "invalid-message", "field 'client' of 'join' must be a string", id="client number"),
    pytest.param(changed(JOIN, client=""), "invalid-message", "client id '' is invalid", id="client empty"),
    pytest.param(changed(JOIN, client="a b"), "invalid-message", "client id 'a b' is invalid", id="client space"),
    pytest.param(changed(JOIN, client="a" * 65), "invalid-message", "use 1 to 64", id="client too long"),
    pytest.param(changed(JOIN, client="\u00e9"), "invalid-message", "is invalid", id="client not ascii"),
    pytest.param(changed(JOIN, name=3), "invalid-message", "field 'name' must be a string", id="name number"),
    pytest.param(changed(JOIN, name="n" * 101), "invalid-message", "at most 100 characters", id="name too long"),
    pytest.param(changed(JOIN, name="a\ud800"), "invalid-text", "lone surrogate at character 1", id="name surrogate"),
    pytest.param(changed(JOIN, color="red"), "invalid-message", "colour like '#1f77b4', got 'red'", id="color name"),
    pytest.param(changed(JOIN, color="#12345"), "invalid-message", "got '#12345'", id="color short"),
    pytest.param(changed(JOIN, revision=-1), "invalid-message", "'revision' of 'join' is out of range: -1", id="revision negative"),
    pytest.param(changed(JOIN, revision=True), "invalid-message", "must be a non-negative integer, got True", id="revision bool"),
    pytest.param(changed(JOIN, revision="3"), "invalid-message", "got '3'", id="revision string"),
    pytest.param(changed(INSERT, text=""), "invalid-message", "'text' of 'insert' must not be empty", id="insert empty"),
    pytest.param(changed(INSERT, text=["x"]), "invalid-message", "'text' of 'insert' must be a string", id="insert list"),
    pytest.param(changed(INSERT, text="ab\udc00"), "invalid-text", "lone surrogate at character 2", id="insert surrogate"),
    pytest.param(changed(INSERT, id=REMOVE), "invalid-message", "missing field 'id'", id="insert no id"),
    pytest.param(changed(INSERT, id="a/b"), "invalid-message", "edit id 'a/b' is invalid", id="insert bad id"),
    pytest.param(changed(INSERT, id=12), "invalid-message", "field 'id' of 'insert' must be a string", id="insert id number"),
    pytest.param(changed(INSERT, rev=REMOVE), "invalid-message", "missing field 'rev'", id="insert no rev"),
    pytest.param(changed(INSERT, rev=1.0), "invalid-message", "got 1.0", id="insert rev float"),
    pytest.param(changed(INSERT, pos=-1), "invalid-message", "'pos' of 'insert' is out of range: -1", id="insert pos negative"),
    pytest.param(changed(INSERT, pos=2**31 + 1), "invalid-message", "out of range: 2147483649", id="insert pos huge"),
    pytest.param(changed(INSERT, pos=False), "invalid-message", "got False", id="insert pos bool"),
    pytest.param(changed(DELETE, len=0), "invalid-message", "'len' of 'delete' must be positive", id="delete zero"),
    pytest.param(changed(DELETE, len=REMOVE), "invalid-message", "missing field 'len'", id="delete no len"),
    pytest.param(changed(OP, op=REMOVE), "invalid-message", "missing field 'op'", id="op missing"),
    pytest.param(changed(OP, op="x"), "invalid-operation", "must be a list, got str", id="op not list"),
    pytest.param(changed(OP, op=[0]), "invalid-operation", "part 0 is 0", id="op zero part"),
    pytest.param(changed(OP, op=[1, 2.5]), "invalid-operation", "part 1 is float", id="op float part"),
    pytest.param(changed(OP, op=["\ud800"]), "invalid-operation", "lone surrogate", id="op surrogate"),
    pytest.param(changed(CURSOR, anchor=REMOVE), "invalid-message", "missing field 'anchor'", id="cursor no anchor"),
    pytest.param(changed(CURSOR, head=-2), "invalid-message", "'head' of 'updateCursor' is out of range", id="cursor head negative"),
]


@pytest.mark.parametrize(("message", "code", "text"), INVALID)
def test_invalid_message_is_rejected(message: object, code: str, text: str) -> None:
    with pytest.raises(ClientError) as caught:
        parse_message(message)

    assert caught.value.code == code
    assert text in caught.value.message


# codecs


def test_subprotocol_names() -> None:
    assert JSON_CODEC.subprotocol == JSON_SUBPROTOCOL == "docserver.json"
    assert MSGPACK_CODEC.subprotocol == MSGPACK_SUBPROTOCOL == "docserver.msgpack"
    assert JSON_CODEC.binary is False
    assert MSGPACK_CODEC.binary is True


def test_json_encode_is_compact_utf8() -> None:
    frame = JSON_CODEC.encode({"type": "ack", "text": EMOJI})

    assert frame == '{"type":"ack","text":"' + EMOJI + '"}'


def test_json_round_trip() -> None:
    message = {"type": "update", "rev": 3, "op": [1, "x\u00e9" + EMOJI, -2], "client": "a"}

    assert JSON_CODEC.decode(JSON_CODEC.encode(message)) == message


def test_msgpack_round_trip() -> None:
    message = {"type": "update", "rev": 3, "op": [1, "x\u00e9" + EMOJI, -2], "client": "a"}

    frame = MSGPACK_CODEC.encode(message)

    assert isinstance(frame, bytes)
    assert MSGPACK_CODEC.decode(frame) == message
    assert msgpack.unpackb(frame) == message


def test_json_decode_keeps_lone_surrogate_for_parse() -> None:
    decoded = JSON_CODEC.decode('{"type":"insert","id":"e","rev":0,"pos":0,"text":"\\ud800"}')

    with pytest.raises(ClientError) as caught:
        parse_message(decoded)
    assert caught.value.code == "invalid-text"


MALFORMED = [
    pytest.param(JSON_CODEC, b'{"type":"join"}', "binary frame on a JSON connection", id="json binary"),
    pytest.param(JSON_CODEC, "{not json", "not valid JSON", id="json syntax"),
    pytest.param(JSON_CODEC, "", "not valid JSON", id="json empty"),
    pytest.param(JSON_CODEC, '{"a":1} {"b":2}', "not valid JSON", id="json two values"),
    pytest.param(JSON_CODEC, "[" * 100_000, "nested too deeply", id="json deep"),
    pytest.param(MSGPACK_CODEC, '{"type":"join"}', "text frame on a msgpack connection", id="msgpack text"),
    pytest.param(MSGPACK_CODEC, b"\xc1", "not valid msgpack", id="msgpack reserved byte"),
    pytest.param(MSGPACK_CODEC, b"\x92\x01", "not valid msgpack", id="msgpack truncated"),
    pytest.param(MSGPACK_CODEC, b"\x01\x02", "not valid msgpack", id="msgpack extra data"),
    pytest.param(MSGPACK_CODEC, b"\xa1\xff", "not valid msgpack", id="msgpack invalid utf8"),
    pytest.param(MSGPACK_CODEC, b"\xa3\xed\xa0\x80", "not valid msgpack", id="msgpack surrogate"),
    pytest.param(MSGPACK_CODEC, b"\x81\x91\x01\x01", "not valid msgpack", id="msgpack list key"),
    pytest.param(MSGPACK_CODEC, b"\x91" * 100_000, "not valid msgpack", id="msgpack deep"),
]


@pytest.mark.parametrize(("codec", "frame", "text"), MALFORMED)
def test_malformed_frame_closes_4400(codec: Any, frame: str | bytes, text: str) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        codec.decode(frame)

    assert caught.value.close_code == 4400
    assert caught.value.code == "malformed-frame"
    assert text in caught.value.message


def test_msgpack_non_object_is_invalid_message() -> None:
    decoded = MSGPACK_CODEC.decode(msgpack.packb([1, 2]))

    with pytest.raises(ClientError) as caught:
        parse_message(decoded)
    assert caught.value.code == "invalid-message"
