"""ASGI glue: the Engine.IO endpoint (WebSocket and long-polling), pages and the HTTP API."""
