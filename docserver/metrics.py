"""Prometheus metrics of the document service, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "APPEND_SECONDS",
    "BATCH_EDITS",
    "CONNECTIONS",
    "EDITS_COMMITTED",
    "ERRORS_SENT",
    "OPEN_DOCUMENTS",
    "STORE_CONFLICTS",
]

EDITS_COMMITTED = Counter("docserver_edits_committed_total", "Edits stored and acknowledged.")
ERRORS_SENT = Counter(
    "docserver_errors_sent_total", "Error messages sent to clients, by error code.", ["code"]
)
STORE_CONFLICTS = Counter(
    "docserver_store_conflicts_total",
    "Appends rejected because another writer had stored the revision first.",
)
APPEND_SECONDS = Histogram(
    "docserver_store_append_seconds",
    "Time to append one batch of edits to the store.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
BATCH_EDITS = Histogram(
    "docserver_batch_edits",
    "Edits stored per append.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
CONNECTIONS = Gauge("docserver_connections", "Open WebSocket connections.")
OPEN_DOCUMENTS = Gauge("docserver_open_documents", "Documents loaded in memory.")
