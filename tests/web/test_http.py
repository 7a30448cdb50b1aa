"""The HTTP API, against a real server process."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import ServerProcess, create_document, launch_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module: no test here changes anything but its own documents."""
    shared = launch_server(tmp_path_factory.mktemp("http"))
    yield shared
    shared.stop()


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def test_create_returns_201_with_location(server: ServerProcess) -> None:
    response = httpx.post(f"{server.base_url}/docs", json={"title": "notes", "content": "hi"})

    body = response.json()
    assert response.status_code == 201
    assert response.headers["location"] == f"/docs/{body['id']}"
    assert body["title"] == "notes"
    assert body["revision"] == 0
    assert body["version"] == 0
    assert isinstance(body["createdAt"], float)


def test_create_with_empty_body(server: ServerProcess) -> None:
    response = httpx.post(f"{server.base_url}/docs")

    assert response.status_code == 201
    assert response.json()["title"] == ""


def test_get_returns_metadata(server: ServerProcess) -> None:
    doc_id = create_document(server.base_url, "plan", "text")

    response = httpx.get(f"{server.base_url}/docs/{doc_id}")

    assert response.status_code == 200
    assert response.json()["id"] == doc_id
    assert response.json()["title"] == "plan"
    assert response.json()["revision"] == 0


def test_snapshot_returns_content(server: ServerProcess) -> None:
    doc_id = create_document(server.base_url, "plan", "caf\u00e9 \U0001f600")

    response = httpx.get(f"{server.base_url}/docs/{doc_id}/snapshot")

    assert response.status_code == 200
    assert response.json() == {"id": doc_id, "revision": 0, "content": "caf\u00e9 \U0001f600"}


@pytest.mark.parametrize("path", ["/docs/{id}", "/docs/{id}/snapshot"])
@pytest.mark.parametrize("doc_id", ["AAAAAAAAAAAAAAAA", "no%20such"])
def test_unknown_id_is_404(server: ServerProcess, path: str, doc_id: str) -> None:
    response = httpx.get(server.base_url + path.format(id=doc_id))

    assert response.status_code == 404
    assert error_code(response) == "document-not-found"


def test_invalid_json_is_400(server: ServerProcess) -> None:
    response = httpx.post(f"{server.base_url}/docs", content=b'{"title": ')

    assert response.status_code == 400
    assert error_code(response) == "invalid-json"
    assert "not valid JSON" in response.json()["error"]["message"]


def test_deeply_nested_json_is_400(server: ServerProcess) -> None:
    response = httpx.post(f"{server.base_url}/docs", content=b"[" * 50_000)

    assert response.status_code == 400
    assert error_code(response) == "invalid-json"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        pytest.param({"title": 5}, "title", id="wrong type"),
        pytest.param({"title": "t", "owner": "me"}, "owner", id="unknown field"),
        pytest.param({"title": "t" * 201}, "title", id="title too long"),
        pytest.param([], "body", id="not an object"),
    ],
)
def test_bad_body_is_422(server: ServerProcess, body: object, where: str) -> None:
    response = httpx.post(f"{server.base_url}/docs", json=body)

    assert response.status_code == 422
    assert error_code(response) == "invalid-body"
    assert response.json()["error"]["message"].startswith(f"{where}:")


def test_lone_surrogate_is_422(server: ServerProcess) -> None:
    response = httpx.post(f"{server.base_url}/docs", content=b'{"content": "\\ud800"}')

    assert response.status_code == 422
    assert error_code(response) == "invalid-body"


def test_body_over_limit_is_413(server: ServerProcess) -> None:
    body = b'{"content": "' + b"x" * (100 << 10) + b'"}'

    response = httpx.post(f"{server.base_url}/docs", content=body)

    assert response.status_code == 413
    assert error_code(response) == "body-too-large"


def test_content_over_limit_is_422(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(max_document_chars=10)

    response = httpx.post(f"{server.base_url}/docs", json={"content": "x" * 11})

    assert response.status_code == 422
    assert error_code(response) == "document-too-large"


def test_root_serves_html(server: ServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lower().startswith("<!doctype html>")


def test_unknown_path_is_404(server: ServerProcess) -> None:
    response = httpx.get(f"{server.base_url}/nothing-here")

    assert response.status_code == 404
    assert error_code(response) == "not-found"


def test_wrong_method_is_405(server: ServerProcess) -> None:
    response = httpx.delete(f"{server.base_url}/docs/AAAAAAAAAAAAAAAA")

    assert response.status_code == 405
    assert error_code(response) == "method-not-allowed"


def metric_value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"metric {name} not found")


async def test_metrics_count_committed_edits(server: ServerProcess) -> None:
    from docserver.client import DocumentClient

    before = metric_value(httpx.get(f"{server.base_url}/metrics").text, "docserver_edits_committed_total")
    doc_id = create_document(server.base_url, "metrics")
    async with DocumentClient(server.ws_url(doc_id)) as client:
        client.insert(0, "counted")
        await client.wait_synced()
        response = httpx.get(f"{server.base_url}/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert metric_value(response.text, "docserver_edits_committed_total") == before + 1
    assert metric_value(response.text, "docserver_connections") >= 1
