"""Bad input over real WebSocket connections to a real server process.

Every case checks the documented response (an error message or a close code), that the document
is unchanged, and that a well-behaved client on the same document still gets its next edit
acknowledged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import msgpack
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ServerProcess, create_document, launch_server

TIMEOUT = 5.0
PRESENCE = {"joined", "left", "cursor"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module, because each test works on documents of its own."""
    shared = launch_server(tmp_path_factory.mktemp("bad-input"))
    yield shared
    shared.stop()


class Client:
    """A raw protocol client that sends exactly the frames a test gives it."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.websocket = websocket
        self.binary = websocket.subprotocol == "docserver.msgpack"
        self.revision = 0
        self.sent = 0

    @classmethod
    async def connect(cls, url: str, subprotocol: str | None = None) -> Client:
        websocket = await connect(
            url,
            subprotocols=[subprotocol] if subprotocol else None,  # type: ignore[list-item]
            proxy=None,
            open_timeout=TIMEOUT,
            close_timeout=TIMEOUT,
        )
        return cls(websocket)

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        """Send a dict in the connection's encoding, or a str or bytes frame as it is."""
        if isinstance(message, dict):
            message = msgpack.packb(message) if self.binary else json.dumps(message)
        await self.websocket.send(message)

    async def receive(self) -> dict[str, Any]:
        """Return the next message that is not presence traffic (joined, left, cursor)."""
        while True:
            frame = await asyncio.wait_for(self.websocket.recv(), TIMEOUT)
            if self.binary:
                assert isinstance(frame, bytes)
                message = msgpack.unpackb(frame)
            else:
                assert isinstance(frame, str)
                message = json.loads(frame)
            if message["type"] not in PRESENCE:
                return message  # type: ignore[no-any-return]

    async def join(self, client_id: str) -> dict[str, Any]:
        await self.send({"type": "join", "client": client_id})
        init = await self.receive()
        assert init["type"] == "init"
        self.revision = init["rev"]
        return init

    async def insert(self, text: str, pos: int = 0) -> dict[str, Any]:
        """Insert text at the current revision and return the reply (an ack or an error)."""
        self.sent += 1
        edit_id = f"edit-{self.sent}"
        await self.send({"type": "insert", "id": edit_id, "rev": self.revision, "pos": pos, "text": text})
        while True:
            reply = await self.receive()
            if reply["type"] == "update":
                self.revision = reply["rev"]
                continue
            if reply["type"] == "ack":
                assert reply["id"] == edit_id
                self.revision = reply["rev"]
            return reply

    async def closed(self) -> tuple[int | None, str | None]:
        """Wait for the server to close the connection; return the close code and reason."""
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(self.websocket.recv(), TIMEOUT)
        return self.websocket.close_code, self.websocket.close_reason

    async def close(self) -> None:
        await self.websocket.close()


def snapshot(server: ServerProcess, doc_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/docs/{doc_id}/snapshot")
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


class Scenario:
    """A document with a well-behaved client joined, and a second connection for bad input."""

    def __init__(self, server: ServerProcess, doc_id: str, witness: Client) -> None:
        self.server = server
        self.doc_id = doc_id
        self.witness = witness
        self.before = snapshot(server, doc_id)
        self.clients: list[Client] = [witness]

    async def connect(self, subprotocol: str | None = None) -> Client:
        client = await Client.connect(self.server.ws_url(self.doc_id), subprotocol)
        self.clients.append(client)
        return client

    async def assert_unharmed(self) -> None:
        """Check that the document is unchanged and that the witness is still served."""
        assert snapshot(self.server, self.doc_id) == self.before
        reply = await self.witness.insert("ok")
        assert reply["type"] == "ack"
        assert reply["rev"] == self.before["revision"] + 1


@pytest.fixture
async def open_scenario() -> AsyncIterator[Callable[..., Any]]:
    scenarios: list[Scenario] = []

    async def start(server: ServerProcess, content: str = "hello") -> Scenario:
        doc_id = create_document(server.base_url, "bad input", content)
        witness = await Client.connect(server.ws_url(doc_id))
        await witness.join("witness")
        scenario = Scenario(server, doc_id, witness)
        scenarios.append(scenario)
        return scenario

    yield start
    for scenario in scenarios:
        for client in scenario.clients:
            await client.close()


@pytest.fixture
async def scenario(server: ServerProcess, open_scenario: Callable[..., Any]) -> Scenario:
    result: Scenario = await open_scenario(server)
    return result


# frames that close the connection


@pytest.mark.parametrize(
    ("subprotocol", "frame"),
    [
        pytest.param(None, "{not json", id="json syntax"),
        pytest.param(None, b"\x00\xffjunk", id="binary on json"),
        pytest.param(None, "[" * 100_000, id="json nested too deeply"),
        pytest.param("docserver.msgpack", b"\xc1\xc1\xc1", id="msgpack junk"),
        pytest.param("docserver.msgpack", '{"type":"join","client":"a"}', id="text on msgpack"),
    ],
)
async def test_malformed_frame_closes_4400(scenario: Scenario, subprotocol: str | None, frame: str | bytes) -> None:
    bad = await scenario.connect(subprotocol)

    await bad.send(frame)

    error = await bad.receive()
    assert error["type"] == "error"
    assert error["code"] == "malformed-frame"
    code, _ = await bad.closed()
    assert code == 4400
    await scenario.assert_unharmed()


async def test_malformed_frame_after_join_closes_4400(scenario: Scenario) -> None:
    bad = await scenario.connect()
    await bad.join("bad")

    await bad.send("not json")

    assert (await bad.receive())["code"] == "malformed-frame"
    code, _ = await bad.closed()
    assert code == 4400
    await scenario.assert_unharmed()


async def test_invalid_utf8_text_closes_1007(scenario: Scenario) -> None:
    bad = await scenario.connect()

    await bad.websocket.send(b'{"type":"join","client":"\xff"}', text=True)

    code, _ = await bad.closed()
    assert code == 1007
    await scenario.assert_unharmed()


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({"type": "insert", "id": "e1", "rev": 0, "pos": 0, "text": "x"}, id="insert"),
        pytest.param({"type": "updateCursor", "rev": 0, "anchor": 0}, id="cursor"),
    ],
)
async def test_message_before_join_closes_4401(scenario: Scenario, message: dict[str, Any]) -> None:
    bad = await scenario.connect()

    await bad.send(message)

    error = await bad.receive()
    assert error["code"] == "not-joined"
    assert error["message"] == f"the first message must be 'join', got {message['type']!r}"
    code, _ = await bad.closed()
    assert code == 4401
    await scenario.assert_unharmed()


async def test_unknown_document_closes_4404(server: ServerProcess, scenario: Scenario) -> None:
    bad = await Client.connect(server.ws_url("AAAAAAAAAAAAAAAA"))
    scenario.clients.append(bad)

    code, reason = await bad.closed()

    assert code == 4404
    assert reason == "document AAAAAAAAAAAAAAAA not found"
    await scenario.assert_unharmed()


async def test_silent_connection_closes_4401(start_server: Callable[..., ServerProcess]) -> None:
    from tests.conftest import create_document

    server = start_server(join_timeout_seconds=0.5)
    doc_id = create_document(server.base_url, "silent")
    silent = await Client.connect(server.ws_url(doc_id))

    code, reason = await silent.closed()

    assert code == 4401
    assert reason == "no join within 0.5 s"


async def test_chatty_unjoined_connection_closes_4401(start_server: Callable[..., ServerProcess]) -> None:
    from tests.conftest import create_document

    server = start_server(join_timeout_seconds=0.5)
    doc_id = create_document(server.base_url, "chatty")
    async with connect(server.ws_url(doc_id)) as socket:
        # Messages that are not a join must not extend the deadline.
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(20):
                await socket.send(json.dumps({"type": "bogus"}))
                reply = json.loads(await socket.recv())
                assert reply["code"] == "unknown-message-type"
                await asyncio.sleep(0.1)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


async def test_message_over_limit_closes_1009(start_server: Callable[..., ServerProcess], open_scenario: Callable[..., Any]) -> None:
    server = start_server(max_message_bytes=4096)
    scenario: Scenario = await open_scenario(server)
    bad = await scenario.connect()
    await bad.join("bad")

    await bad.send({"type": "insert", "id": "big", "rev": 0, "pos": 0, "text": "x" * 10_000})

    code, _ = await bad.closed()
    assert code == 1009
    await scenario.assert_unharmed()


# messages that get an error reply, with the connection left open


async def assert_error(client: Client, code: str, edit_id: str | None = None, text: str = "") -> None:
    error = await client.receive()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error.get("id") == edit_id
    assert text in error["message"]


@pytest.mark.parametrize(
    ("message", "code", "text"),
    [
        pytest.param("[1, 2]", "invalid-message", "must be an object, got list", id="array"),
        pytest.param("42", "invalid-message", "must be an object, got int", id="number"),
        pytest.param('{"type": "shout"}', "unknown-message-type", "unknown message type 'shout'", id="unknown type"),
        pytest.param('{"client": "x"}', "invalid-message", "string field 'type'", id="no type"),
    ],
)
async def test_invalid_message_before_join_gets_error(scenario: Scenario, message: str, code: str, text: str) -> None:
    bad = await scenario.connect()

    await bad.send(message)

    await assert_error(bad, code, text=text)
    await bad.join("bad")
    await scenario.assert_unharmed()


@pytest.mark.parametrize(
    ("join", "text"),
    [
        pytest.param({"type": "join", "client": "has space"}, "client id 'has space' is invalid", id="client id"),
        pytest.param({"type": "join", "client": "x" * 65}, "use 1 to 64", id="client id too long"),
        pytest.param({"type": "join"}, "missing field 'client'", id="no client"),
        pytest.param({"type": "join", "client": "c", "color": "blue"}, "colour like", id="color"),
    ],
)
async def test_invalid_join_gets_error(scenario: Scenario, join: dict[str, Any], text: str) -> None:
    bad = await scenario.connect()

    await bad.send(join)

    await assert_error(bad, "invalid-message", text=text)
    await bad.join("bad")
    await scenario.assert_unharmed()


async def test_second_join_with_other_id_gets_error(scenario: Scenario) -> None:
    bad = await scenario.connect()
    await bad.join("bad")

    await bad.send({"type": "join", "client": "other"})

    await assert_error(bad, "already-joined", text="already joined as 'bad'")
    await scenario.assert_unharmed()


async def joined_client(scenario: Scenario) -> Client:
    bad = await scenario.connect()
    await bad.join("bad")
    return bad


@pytest.mark.parametrize(
    ("message", "code", "text"),
    [
        pytest.param(
            {"type": "op", "id": "e1", "rev": 0, "op": [6, "x"]},
            "invalid-operation", "operation spans 6 characters but revision 0 has 5", id="retain past end",
        ),
        pytest.param(
            {"type": "insert", "id": "e1", "rev": 0, "pos": 6, "text": "x"},
            "invalid-operation", "splice position 6 is outside a 5-character document", id="insert past end",
        ),
        pytest.param(
            {"type": "delete", "id": "e1", "rev": 0, "pos": 4, "len": 2},
            "invalid-operation", "goes past the end", id="delete past end",
        ),
        pytest.param(
            {"type": "op", "id": "e1", "rev": 0, "op": [2, 0, 3]},
            "invalid-operation", "part 1 is 0", id="zero part",
        ),
        pytest.param(
            {"type": "insert", "id": "e1", "rev": 1, "pos": 0, "text": "x"},
            "resync-required", "base revision 1 is ahead of the document's revision 0", id="future revision",
        ),
        pytest.param(
            {"type": "insert", "id": "e1", "rev": 0, "pos": 0, "text": ""},
            "invalid-message", "must not be empty", id="empty insert",
        ),
        pytest.param(
            {"type": "insert", "id": "e1", "rev": -1, "pos": 0, "text": "x"},
            "invalid-message", "out of range: -1", id="negative revision",
        ),
    ],
)
async def test_invalid_edit_gets_error_with_id(scenario: Scenario, message: dict[str, Any], code: str, text: str) -> None:
    bad = await joined_client(scenario)

    await bad.send(message)

    await assert_error(bad, code, "e1", text)
    await scenario.assert_unharmed()


async def test_lone_surrogate_text_is_invalid_text(scenario: Scenario) -> None:
    bad = await joined_client(scenario)

    await bad.send('{"type":"insert","id":"e1","rev":0,"pos":0,"text":"a\\ud800"}')

    await assert_error(bad, "invalid-text", "e1", "lone surrogate at character 1")
    await scenario.assert_unharmed()


async def test_lone_surrogate_edit_id_is_not_echoed(scenario: Scenario) -> None:
    bad = await joined_client(scenario)

    await bad.send('{"type":"insert","id":"\\ud800","rev":0,"pos":0,"text":"x"}')

    await assert_error(bad, "invalid-message", None, "edit id '\\ud800' is invalid")
    await scenario.assert_unharmed()
    assert (await bad.insert("still served"))["type"] == "ack"


async def test_cursor_past_end_is_invalid_cursor(scenario: Scenario) -> None:
    bad = await joined_client(scenario)

    await bad.send({"type": "updateCursor", "rev": 0, "anchor": 2, "head": 6})

    await assert_error(bad, "invalid-cursor", None, "past the end of revision 0")
    await scenario.assert_unharmed()


async def test_trimmed_base_revision_needs_resync(start_server: Callable[..., ServerProcess], open_scenario: Callable[..., Any]) -> None:
    server = start_server(history_limit=5)
    scenario: Scenario = await open_scenario(server)
    for _ in range(12):
        assert (await scenario.witness.insert("x"))["type"] == "ack"
    scenario.before = snapshot(server, scenario.doc_id)
    bad = await joined_client(scenario)

    await bad.send({"type": "insert", "id": "e1", "rev": 1, "pos": 0, "text": "x"})

    await assert_error(bad, "resync-required", "e1", "older than the oldest kept revision")
    await scenario.assert_unharmed()


async def test_error_leaves_connection_usable(scenario: Scenario) -> None:
    bad = await joined_client(scenario)
    await bad.send({"type": "insert", "id": "e1", "rev": 0, "pos": 99, "text": "x"})
    await assert_error(bad, "invalid-operation", "e1")

    reply = await bad.insert("fine")

    assert reply == {"type": "ack", "id": "edit-1", "rev": 1}


# subprotocols


async def test_msgpack_round_trip(scenario: Scenario) -> None:
    client = await scenario.connect("docserver.msgpack")

    assert client.websocket.subprotocol == "docserver.msgpack"
    init = await client.join("packer")
    reply = await client.insert("\U0001f600", pos=5)
    update = await scenario.witness.receive()

    assert init["content"] == "hello"
    assert init["rev"] == 0
    assert reply == {"type": "ack", "id": "edit-1", "rev": 1}
    assert update == {"type": "update", "rev": 1, "op": [5, "\U0001f600"], "client": "packer"}


async def test_json_subprotocol_is_accepted(scenario: Scenario) -> None:
    client = await scenario.connect("docserver.json")

    init = await client.join("texter")

    assert client.websocket.subprotocol == "docserver.json"
    assert init["content"] == "hello"


async def test_no_subprotocol_means_json(scenario: Scenario) -> None:
    assert scenario.witness.websocket.subprotocol is None
    assert scenario.witness.binary is False
