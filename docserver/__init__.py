"""The WebSocket document service: one authority per document, edits durable before they are
acknowledged."""

__version__ = "0.1.0"
