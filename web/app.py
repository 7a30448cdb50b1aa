"""The ASGI application: the HTTP API under /docs, the WebSocket endpoint at /docs/{id},
metrics at /metrics and the static pages at /."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from docserver.config import Settings
from docserver.connection import serve_connection
from docserver.host import DocumentHost, DocumentNotFound
from docserver.protocol import ID_PATTERN
from docserver.store import DocumentMeta, Snapshot, Store, StoreError, open_store

__all__ = ["create_app"]

logger = logging.getLogger("docserver.web")

STATIC_DIR = Path(__file__).parent / "static"
MAX_TITLE_LENGTH = 200


class CreateDocument(BaseModel):
    """The body of `POST /docs`."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=MAX_TITLE_LENGTH)
    content: str = ""


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def read_body(request: Request, limit: int) -> bytes:
    """Read a request body, raising 413 as soon as it exceeds `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"request body of {declared} bytes exceeds the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """Build the application; it opens the store on startup and closes it on shutdown."""
    store = store if store is not None else open_store(settings.store, str(settings.data_dir))
    host = DocumentHost(store, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        logger.info("docserver ready, store %s", settings.store)
        try:
            yield
        finally:
            await host.close()
            await store.close()
            logger.info("docserver stopped")

    async def create_document(request: Request) -> Response:
        try:
            body = await read_body(request, settings.max_http_body_bytes)
        except ClientDisconnect:
            logger.info("client disconnected while sending a new document")
            return Response(status_code=400)
        try:
            payload = json.loads(body or b"{}")
        except ValueError as exc:
            return error_response(400, "invalid-json", f"request body is not valid JSON: {exc}")
        except RecursionError:
            # The JSON decoder recurses once per nesting level, so "[[[[…" within the body
            # limit would otherwise end in a 500.
            return error_response(400, "invalid-json", "request body is nested too deeply")
        try:
            params = CreateDocument.model_validate(payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            return error_response(422, "invalid-body", f"{where}: {first['msg']}")
        try:
            params.content.encode("utf-8")
            params.title.encode("utf-8")
        except UnicodeEncodeError:
            return error_response(422, "invalid-body", "text contains a lone surrogate")
        if len(params.content) > settings.max_document_chars:
            return error_response(
                422,
                "document-too-large",
                f"content has {len(params.content)} characters;"
                f" the limit is {settings.max_document_chars}",
            )

        now = time.time()
        doc_id = secrets.token_urlsafe(12)
        meta = DocumentMeta(id=doc_id, title=params.title, created_at=now, version=0)
        snapshot = Snapshot(doc_id=doc_id, version=0, revision=0, content=params.content, created_at=now)
        await store.create_document(meta, snapshot)
        logger.info("created document %s", doc_id)
        return JSONResponse(
            describe(meta, revision=0),
            status_code=201,
            headers={"Location": f"/docs/{doc_id}"},
        )

    async def get_document(request: Request) -> Response:
        document_id = request.path_params["doc_id"]
        meta = await find(document_id)
        if meta is None:
            return not_found(document_id)
        revision = await current_revision(meta)
        return JSONResponse(describe(meta, revision))

    async def get_snapshot(request: Request) -> Response:
        document_id = request.path_params["doc_id"]
        if not ID_PATTERN.fullmatch(document_id):
            return not_found(document_id)
        try:
            session = await host.current(document_id)
        except DocumentNotFound:
            return not_found(document_id)
        return JSONResponse(
            {"id": document_id, "revision": session.revision, "content": session.content}
        )

    async def find(document_id: str) -> DocumentMeta | None:
        if not ID_PATTERN.fullmatch(document_id):
            return None
        return await store.get_document(document_id)

    async def current_revision(meta: DocumentMeta) -> int:
        open_document = host.documents.get(meta.id)
        if open_document is not None:
            return open_document.session.revision
        last = await store.last_revision(meta.id, meta.version)
        if last is not None:
            return last
        snapshot_record = await store.get_snapshot(meta.id, meta.version)
        return snapshot_record.revision if snapshot_record is not None else 0

    def not_found(document_id: str) -> JSONResponse:
        return error_response(404, "document-not-found", f"no document with id {document_id!r}")

    async def websocket_endpoint(websocket: WebSocket) -> None:
        await serve_connection(host, websocket, websocket.path_params["doc_id"])

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        codes = {404: "not-found", 405: "method-not-allowed", 413: "body-too-large"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http-error"), exc.detail)

    async def store_error(request: Request, exc: Exception) -> Response:
        logger.error("store request failed for %s %s: %s", request.method, request.url.path, exc)
        return error_response(503, "store-unavailable", "the store is unavailable; retry later")

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/docs", create_document, methods=["POST"]),
        Route("/docs/{doc_id}", get_document, methods=["GET"]),
        Route("/docs/{doc_id}/snapshot", get_snapshot, methods=["GET"]),
        WebSocketRoute("/docs/{doc_id}", websocket_endpoint),
        Route("/d/{doc_id}", page("editor.html"), methods=["GET"]),
        Route("/v/{doc_id}", page("view.html"), methods=["GET"]),
        Mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, StoreError: store_error},
    )
    app.state.host = host
    app.state.store = store
    return app


def page(name: str) -> Any:
    """Return an endpoint serving one static page; the page reads the document id from its URL."""

    async def endpoint(request: Request) -> Response:
        path = STATIC_DIR / name
        if not path.is_file():
            return error_response(404, "not-found", f"{name} is missing; build the editor first")
        return FileResponse(path, media_type="text/html")

    return endpoint


def describe(meta: DocumentMeta, revision: int) -> dict[str, Any]:
    return {
        "id": meta.id,
        "title": meta.title,
        "createdAt": meta.created_at,
        "version": meta.version,
        "revision": revision,
    }
