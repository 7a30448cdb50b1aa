"""Fixtures for the browser tests: Debian's Chromium driven by Playwright against a real
`docserver serve` subprocess (the `server` fixture of tests/conftest.py).

The tests need `/usr/bin/chromium` (`scripts/install-browser`), the Python `playwright`
package, and the bundled pages in web/static/dist (`npm ci && npm run build` in web/client).
Outside CI a missing browser or package skips them, and with the `CI` variable set it fails
them. A missing or stale bundle always fails them.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CLIENT_SOURCES = REPO / "web" / "client" / "src"
BUNDLE = REPO / "web" / "static" / "dist" / "editor.js"
# Seconds to wait for editors to converge. It bounds a failing test, because a round trip
# on loopback takes milliseconds.
SYNC_TIMEOUT = 15.0


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (browser tests never skip in CI)", pytrace=False)
    pytest.skip(reason)


# Module scope, not session: while Playwright's sync API is started, its event loop counts
# as running in this thread, and pytest-asyncio can't run the async tests of other modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium shared by the tests of one module."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing; install it with scripts/install-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing; install the test extras")

    stale = [
        source.name
        for source in CLIENT_SOURCES.rglob("*.js")
        if not BUNDLE.exists() or source.stat().st_mtime > BUNDLE.stat().st_mtime
    ]
    if stale:
        pytest.fail(
            f"{BUNDLE.relative_to(REPO)} is missing or older than {', '.join(sorted(stale))}; "
            "run `npm ci && npm run build` in web/client",
            pytrace=False,
        )

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Editor:
    """One editor page in its own browser context, so it has its own client id."""

    def __init__(self, context: Any, page: Any, name: str) -> None:
        self.context = context
        self.page = page
        self.name = name
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    @property
    def client_id(self) -> str:
        return str(self.page.evaluate("docserver.clientId"))

    def text(self) -> str:
        return str(self.page.evaluate("docserver.text()"))

    def status(self) -> dict[str, str]:
        return dict(
            self.page.evaluate(
                """() => { const s = document.getElementById('status');
                           return {state: s.dataset.state, unsent: s.dataset.unsent, text: s.textContent}; }"""
            )
        )

    def focus(self, key: str = "Control+End") -> None:
        """Click into the text and press `key` to place the cursor."""
        self.page.click(".cm-content")
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def wait_connected(self) -> None:
        self.page.wait_for_function(
            "document.getElementById('status').dataset.state === 'connected'",
            timeout=SYNC_TIMEOUT * 1000,
        )

    def wait_synchronized(self) -> None:
        """Wait until the server acknowledged every local edit."""
        self.page.wait_for_function(
            "docserver.sync.joined && docserver.sync.synchronized",
            timeout=SYNC_TIMEOUT * 1000,
        )

    def remote_caret(self, client_id: str) -> Any:
        return self.page.locator(f'.cm-remote-caret[data-client="{client_id}"]')

    def wait_remote_caret_at(self, client_id: str, offset: int) -> None:
        """Wait until another editor's caret is drawn at UTF-16 offset `offset`."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

        try:
            self.page.wait_for_function(
                """([client, offset]) => {
                    const caret = document.querySelector(`.cm-remote-caret[data-client="${client}"]`);
                    return caret !== null && docserver.view.posAtDOM(caret) === offset;
                }""",
                arg=[client_id, offset],
                timeout=SYNC_TIMEOUT * 1000,
            )
        except PlaywrightTimeoutError as error:
            actual = self.remote_caret_offset(client_id) if self.remote_caret(client_id).count() else None
            raise AssertionError(
                f"{self.name}: caret of {client_id} is at {actual}, expected {offset}"
            ) from error

    def remote_caret_offset(self, client_id: str) -> int:
        """Return the UTF-16 offset in the document where another editor's caret is drawn."""
        return int(
            self.page.evaluate(
                """(client) => {
                    const caret = document.querySelector(`.cm-remote-caret[data-client="${client}"]`);
                    return docserver.view.posAtDOM(caret);
                }""",
                client_id,
            )
        )


@pytest.fixture
def open_editor(
    browser: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Editor]]:
    """Open editor pages; on failure save a screenshot of each under test-artifacts/."""
    editors: list[Editor] = []

    def open_page(base_url: str, doc_id: str, name: str, *, wait: bool = True) -> Editor:
        context = browser.new_context(viewport={"width": 900, "height": 520})
        page = context.new_page()
        editor = Editor(context, page, name)
        editors.append(editor)
        page.goto(f"{base_url}/d/{doc_id}?name={name}")
        if wait:
            editor.wait_connected()
        return editor

    yield open_page

    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        for index, editor in enumerate(editors):
            if not editor.page.is_closed():
                editor.page.screenshot(path=str(ARTIFACTS / f"failed-{slug}-{index}-{editor.name}.png"))
    errors = [f"{editor.name}: {error}" for editor in editors for error in editor.errors]
    for editor in editors:
        editor.context.close()
    assert not errors, f"uncaught errors in the pages: {errors}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep each phase's report on the test item, so fixtures can tell whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def snapshot(base_url: str, doc_id: str) -> dict[str, Any]:
    response = httpx.get(f"{base_url}/docs/{doc_id}/snapshot")
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def wait_converged(base_url: str, doc_id: str, editors: list[Editor]) -> str:
    """Wait until every editor is synchronized and shows the server's content; return it."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    while True:
        for editor in editors:
            editor.wait_synchronized()
        texts = [editor.text() for editor in editors]
        content = snapshot(base_url, doc_id)["content"]
        if all(text == content for text in texts):
            return str(content)
        if time.monotonic() > deadline:
            listing = "\n".join(f"  {e.name}: {t!r}" for e, t in zip(editors, texts))
            raise AssertionError(f"editors did not converge on the server's {content!r}:\n{listing}")
        time.sleep(0.1)
