"""uvicorn logs WebSocket handshakes ('"WebSocket /api/v1/ws?token=…" [accepted]') on
`uvicorn.error`, not on the access logger that kit/logging filters: strip the query there too."""

from __future__ import annotations

import logging


class DropWebSocketQuery(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "WebSocket %s" in record.msg and isinstance(record.args, tuple):
            record.args = tuple(a.split("?", 1)[0] if isinstance(a, str) and "?" in a else a for a in record.args)
        return True


def install() -> None:
    for name in ("uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropWebSocketQuery) for f in logger.filters):
            logger.addFilter(DropWebSocketQuery())
