"""Log setup. Query strings are dropped from access logs: the WebSocket feed carries tokens there. A device
push token in a path (DELETE /api/v1/push-tokens/{token}) is masked too."""

from __future__ import annotations

import logging
import re
import time

_PUSH_TOKEN_PATH = re.compile(r"(/push-tokens/)[^/?]+")


class _DropQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn.access args: (client, method, path_with_query, http_version, status)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = _PUSH_TOKEN_PATH.sub(r"\1…", str(args[2]).split("?", 1)[0])
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


class _QuietOutages(logging.Filter):
    """While the database or Redis is down every background loop fails each pass (about once a
    second each) and would log a full stack trace every time. A failure whose exception means a
    dependency is unreachable is logged once per logger every EVERY_S, without the trace, with the
    number of repeats; any other failure is logged as it is."""

    EVERY_S = 30.0

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        from xinex.kit.errors import unavailable_dependency

        dependency = unavailable_dependency(record.exc_info[1])
        if dependency is None:
            return True
        key = (record.name, dependency)
        now = time.monotonic()
        last, repeats = self._seen.get(key, (-self.EVERY_S, 0))
        if now - last < self.EVERY_S:
            self._seen[key] = (last, repeats + 1)
            return False
        self._seen[key] = (now, 0)
        record.msg = f"{record.getMessage()}: {dependency} unavailable ({type(record.exc_info[1]).__name__})" + (
            f"; {repeats} more like it since the last line" if repeats else "")
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


def configure_logging(level: int = logging.INFO, *, access_log: bool = True) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        for handler in root.handlers:  # ours only: a host application's handlers are left alone
            handler.addFilter(_QuietOutages())
    # httpx logs every URL at INFO; outbound URLs can carry secrets (webhook paths, tokens).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _DropQueryString) for f in access.filters):
        access.addFilter(_DropQueryString())
    if not any(isinstance(f, _DropOtlpIngest) for f in access.filters):
        access.addFilter(_DropOtlpIngest())
    access.disabled = not access_log
