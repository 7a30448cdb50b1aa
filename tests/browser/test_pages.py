"""The start page, the editor's title and presence list, the read-only view, and
screenshots of a two-editor session saved under test-artifacts/."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

import httpx

from tests.browser.conftest import ARTIFACTS, SYNC_TIMEOUT, Editor, wait_converged
from tests.conftest import ServerProcess, create_document

OpenEditor = Callable[..., Editor]
TIMEOUT_MS = SYNC_TIMEOUT * 1000


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_editor_shows_title_presence_and_status(
    server: ServerProcess, open_editor: OpenEditor
) -> None:
    doc_id = create_document(server.base_url, "Meeting notes ✍", "")
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")

    assert alice.page.inner_text("#title") == "Meeting notes ✍"
    assert alice.page.title() == "Meeting notes ✍ · docserver"
    assert alice.status()["text"] == "Connected"
    alice.page.wait_for_function("document.querySelectorAll('#presence li').length === 2")
    names = alice.page.locator("#presence li").all_inner_texts()
    assert names == ["Alice (you)", "Bob"]
    assert alice.page.get_attribute("#view-link", "href") == f"/v/{doc_id}"

    bob.page.close()
    alice.page.wait_for_function("document.querySelectorAll('#presence li').length === 1")


def test_editor_for_missing_document(server: ServerProcess, open_editor: OpenEditor) -> None:
    editor = open_editor(server.base_url, "no-such-doc", "Alice", wait=False)
    editor.page.wait_for_function("document.getElementById('status').dataset.state === 'stopped'")
    assert editor.page.inner_text("#title") == "Document not found"
    assert editor.page.locator(".cm-editor").count() == 0


def test_read_only_view_follows_edits(
    server: ServerProcess, open_editor: OpenEditor, browser: Any
) -> None:
    doc_id = create_document(server.base_url, "viewed", "line one\n")
    context = browser.new_context()
    try:
        viewer = context.new_page()
        viewer.goto(f"{server.base_url}/v/{doc_id}")
        viewer.wait_for_function(
            "document.getElementById('content').textContent === 'line one\\n'", timeout=TIMEOUT_MS
        )
        assert viewer.inner_text("#title") == "viewed"
        assert viewer.locator("[contenteditable], textarea, input, button").count() == 0
        assert viewer.get_attribute("#edit-link", "href") == f"/d/{doc_id}"

        alice = open_editor(server.base_url, doc_id, "Alice")
        alice.focus()
        alice.type("line two 😀")
        alice.wait_synchronized()
        # The view polls every 2 s.
        viewer.wait_for_function(
            "document.getElementById('content').textContent === 'line one\\nline two 😀'",
            timeout=TIMEOUT_MS,
        )
        revision = httpx.get(f"{server.base_url}/docs/{doc_id}/snapshot").json()["revision"]
        assert viewer.get_attribute("#content", "data-revision") == str(revision)
    finally:
        context.close()


def test_start_page_creates_and_opens_documents(server: ServerProcess, browser: Any) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.base_url + "/")
        page.fill("#new-title", "From the start page")
        page.click("#create-form button")
        page.wait_for_url(re.compile(r"/d/[A-Za-z0-9_-]+$"), timeout=TIMEOUT_MS)
        doc_id = page.url.rsplit("/", 1)[1]
        page.wait_for_function(
            "document.getElementById('status').dataset.state === 'connected'", timeout=TIMEOUT_MS
        )
        assert page.inner_text("#title") == "From the start page"
        assert httpx.get(f"{server.base_url}/docs/{doc_id}").json()["title"] == "From the start page"

        page.goto(server.base_url + "/")
        page.fill("#open-id", f"http://elsewhere.test/v/{doc_id}")
        page.click("#open-form button")
        page.wait_for_url(f"**/d/{doc_id}", timeout=TIMEOUT_MS)

        page.goto(f"{server.base_url}/?doc={doc_id}")
        page.wait_for_url(f"**/d/{doc_id}", timeout=TIMEOUT_MS)
    finally:
        context.close()


def test_two_editor_session_screenshots(server: ServerProcess, open_editor: OpenEditor) -> None:
    text = (
        "Meeting notes, 4 December\n\n"
        "- Release 0.2 goes out on Friday 🚀\n"
        "- Café order: two crème brûlée\n"
        "- Open question: who reviews the editor?\n"
    )
    doc_id = create_document(server.base_url, "Meeting notes", text)
    alice = open_editor(server.base_url, doc_id, "Alice")
    bob = open_editor(server.base_url, doc_id, "Bob")

    alice.focus("Control+End")
    alice.type("- Zoë takes the review")
    bob.focus("Control+Home")
    bob.page.keyboard.press("ArrowDown")
    bob.page.keyboard.press("ArrowDown")
    bob.page.keyboard.press("Shift+End")
    wait_converged(server.base_url, doc_id, [alice, bob])
    alice.remote_caret(bob.client_id).wait_for(timeout=TIMEOUT_MS)
    bob.remote_caret(alice.client_id).wait_for(timeout=TIMEOUT_MS)

    ARTIFACTS.mkdir(exist_ok=True)
    for editor in (alice, bob):
        path = ARTIFACTS / f"two-editors-{editor.name.lower()}.png"
        path.unlink(missing_ok=True)
        editor.page.screenshot(path=str(path))
        assert png_size(path.read_bytes()) == (900, 520)
