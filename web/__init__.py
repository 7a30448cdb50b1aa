"""The HTTP API and the static pages, served on the same port as the WebSocket endpoint."""
