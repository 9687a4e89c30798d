"""Log setup. Query strings are dropped from access logs: the WebSocket feed carries tokens there."""

from __future__ import annotations

import logging


class _DropQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access args: (client, method, path_with_query, http_version, status)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        return True


class _DropOtlpIngest(logging.Filter):
    """OTLP batches arrive thousands a second on their own port; one line each would drown the terminal.
    uvicorn's access logger is process-wide, so the OTLP server's requests are told apart by path."""

    PATHS = frozenset({"/v1/traces", "/v1/logs", "/v1/metrics"})

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            return str(record.args[2]).split("?", 1)[0] not in self.PATHS
        return True


def configure_logging(level: int = logging.INFO, *, access_log: bool = True) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every URL at INFO; outbound URLs can carry secrets (webhook paths, tokens).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _DropQueryString) for f in access.filters):
        access.addFilter(_DropQueryString())
    if not any(isinstance(f, _DropOtlpIngest) for f in access.filters):
        access.addFilter(_DropOtlpIngest())
    access.disabled = not access_log
