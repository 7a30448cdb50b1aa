"""The editor page in a real Chromium: concurrent typing, offline editing, reconnection and
other editors' cursors, each checked against the server's snapshot."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from itertools import zip_longest

from tests.browser.conftest import SYNC_TIMEOUT, Editor, snapshot, wait_converged
from tests.conftest import ServerProcess, create_document

OpenEditor = Callable[..., Editor]


def test_concurrent_typing_converges(server: ServerProcess, open_editor: OpenEditor) -> None:
    doc_id = create_document(server.base_url, "concurrent", "start\nend")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    alice.focus("Control+End")
    bob.focus("Control+Home")
    alice_chunks = ["Añb ", "😀 é", "\nline 2: naïve ", "👩‍💻 café"]
    bob_chunks = ["Bç ", "🇫🇷 ", "e\u0301 ", "\n"]

    # No waiting between chunks, so edits of the two pages cross on the way.
    for alice_chunk, bob_chunk in zip(alice_chunks, bob_chunks):
        alice.type(alice_chunk)
        bob.type(bob_chunk)
    alice.page.keyboard.insert_text(" ∑ 漢字")

    content = wait_converged(server.base_url, doc_id, [alice, bob])
    expected = "".join(bob_chunks) + "start\nend" + "".join(alice_chunks) + " ∑ 漢字"
    assert content == expected


def test_typing_at_one_place_keeps_every_character(
    server: ServerProcess, open_editor: OpenEditor
) -> None:
    doc_id = create_document(server.base_url, "same place", "ab")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    for editor in (alice, bob):
        editor.focus("Control+Home")
        editor.page.keyboard.press("ArrowRight")
    alice_text = "1😀2é3\n4"
    bob_text = "xñy🇫🇷z"

    for alice_char, bob_char in zip_longest(alice_text, bob_text, fillvalue=""):
        alice.type(alice_char)
        bob.type(bob_char)

    content = wait_converged(server.base_url, doc_id, [alice, bob])
    assert Counter(content) == Counter("ab" + alice_text + bob_text)
    # Each editor's own characters stay in the order typed.
    assert [c for c in content if c in alice_text] == list(alice_text)
    assert [c for c in content if c in bob_text] == list(bob_text)


def test_offline_edits_sync_after_reconnect(server: ServerProcess, open_editor: OpenEditor) -> None:
    doc_id = create_document(server.base_url, "offline", "shared line\n")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    alice.focus("Control+End")
    bob.focus("Control+Home")

    # Playwright's offline mode blocks new connections but keeps an open WebSocket
    # (Chromium 156), so the page's offline handler is what closes it.
    alice.context.set_offline(True)
    alice.page.wait_for_function("docserver.connection.state !== 'open'")
    alice.type("written offline 😀 é\n")
    alice.type("second line")
    bob.type("online edit ")
    bob.wait_synchronized()

    status = alice.status()
    assert status["state"] == "offline"
    assert int(status["unsent"]) > 0
    assert "unsent edit" in status["text"]
    assert "written offline" not in bob.text()
    assert "written offline" not in snapshot(server.base_url, doc_id)["content"]

    alice.context.set_offline(False)
    content = wait_converged(server.base_url, doc_id, [alice, bob])
    assert content == "online edit shared line\nwritten offline 😀 é\nsecond line"
    assert alice.status()["state"] == "connected"


def test_simulated_offline_hook(server: ServerProcess, open_editor: OpenEditor) -> None:
    doc_id = create_document(server.base_url, "hook", "x")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    alice.focus("Control+End")
    bob.focus("Control+End")

    alice.page.evaluate("docserver.simulateOffline(true)")
    for chunk in ["one ", "two ", "three"]:
        alice.type(chunk)
    bob.type("!")
    bob.wait_synchronized()
    status = alice.status()
    assert status["state"] == "offline"
    assert status["text"].startswith("Offline · ")
    assert status["unsent"] != "0"
    # Other editors see the offline editor leave.
    bob.page.wait_for_function(
        "(id) => !document.querySelector(`#presence li[data-client='${id}']`)", arg=alice.client_id
    )

    alice.page.evaluate("docserver.simulateOffline(false)")
    content = wait_converged(server.base_url, doc_id, [alice, bob])
    assert Counter(content) == Counter("x!one two three")
    assert content.count("one two three") == 1


def test_disconnect_right_after_typing_duplicates_nothing(
    server: ServerProcess, open_editor: OpenEditor
) -> None:
    doc_id = create_document(server.base_url, "races", "")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    alice.focus()

    # The edit may reach the server or not, and its ack may be lost either way. Every
    # round must leave exactly one copy.
    words = [f"w{round_}😀 " for round_ in range(6)]
    for round_, word in enumerate(words):
        alice.page.keyboard.insert_text(word)
        if round_ % 2:
            alice.page.evaluate("docserver.disconnect()")
        else:
            alice.page.evaluate("docserver.simulateOffline(true)")
            time.sleep(0.05)
            alice.page.evaluate("docserver.simulateOffline(false)")

    content = wait_converged(server.base_url, doc_id, [alice, bob])
    assert content == "".join(words)


def test_edits_during_server_restart_arrive(server: ServerProcess, open_editor: OpenEditor) -> None:
    doc_id = create_document(server.base_url, "restart", "before\n")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    alice.focus()
    alice.type("kept ")
    alice.wait_synchronized()

    server.stop()
    alice.page.wait_for_function("docserver.connection.state !== 'open'")
    bob.page.wait_for_function("docserver.connection.state !== 'open'")
    alice.type("while down 😀")
    assert alice.status()["state"] in {"reconnecting", "connecting"}
    assert int(alice.status()["unsent"]) > 0

    server.start()
    content = wait_converged(server.base_url, doc_id, [alice, bob])
    assert content == "before\nkept while down 😀"


def test_remote_cursor_follows_edits_and_leaves(
    server: ServerProcess, open_editor: OpenEditor
) -> None:
    doc_id = create_document(server.base_url, "cursors", "first line\nsecond line")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    bob_id = bob.client_id

    # Bob's cursor goes before "line" of the second line.
    bob.focus("Control+End")
    for _ in range(4):
        bob.page.keyboard.press("ArrowLeft")
    alice.wait_remote_caret_at(bob_id, len("first line\nsecond "))
    caret = alice.remote_caret(bob_id)
    assert caret.locator(".cm-remote-name").inner_text() == "Bob"

    # Text typed before the cursor moves it. The emoji takes two UTF-16 units.
    alice.focus("Control+Home")
    alice.type("😀é\n")
    alice.wait_synchronized()
    expected_prefix = "😀é\nfirst line\nsecond "
    alice.wait_remote_caret_at(bob_id, len(expected_prefix.encode("utf-16-le")) // 2)
    # Bob's page and the server agree on where Bob's cursor is.
    bob.page.wait_for_function(
        "(head) => docserver.sync.editor.getSelection().head === head", arg=len(expected_prefix)
    )

    # Text inserted exactly at the cursor leaves it before the insert.
    offset = alice.remote_caret_offset(bob_id)
    alice.page.evaluate(
        "(at) => docserver.view.dispatch({changes: {from: at, insert: '++'}})", offset
    )
    alice.wait_synchronized()
    assert alice.remote_caret_offset(bob_id) == offset

    # A selection is drawn over the selected text. Bob's own page also kept his cursor
    # before Alice's "++", so the selection starts there.
    bob.page.keyboard.press("Shift+End")
    selection = alice.page.locator(f'.cm-remote-selection[data-client="{bob_id}"]')
    selection.first.wait_for(timeout=SYNC_TIMEOUT * 1000)
    assert "".join(selection.all_inner_texts()) == "++line"

    bob.page.close()
    caret.wait_for(state="detached", timeout=SYNC_TIMEOUT * 1000)
    assert alice.page.locator(f'#presence li[data-client="{bob_id}"]').count() == 0


def test_edits_beyond_kept_history_are_reported(
    start_server: Callable[..., ServerProcess], open_editor: OpenEditor
) -> None:
    # The server keeps 2 operations, so an editor that missed more can't be caught up.
    server = start_server(history_limit=2)
    doc_id = create_document(server.base_url, "short history", "base")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")
    alice.focus()
    bob.focus()

    alice.page.evaluate("docserver.simulateOffline(true)")
    alice.type(" lost")
    for letter in "xyz":
        bob.type(letter)
        bob.wait_synchronized()
    alice.page.evaluate("docserver.simulateOffline(false)")

    notice = alice.page.locator("#notice")
    notice.wait_for(timeout=SYNC_TIMEOUT * 1000)
    assert "could not be merged" in notice.locator("p").inner_text()
    assert notice.locator("textarea").input_value() == "base lost"
    content = wait_converged(server.base_url, doc_id, [alice, bob])
    assert content == "basexyz"
    notice.locator("button").click()
    assert notice.is_hidden()
