"""Test helper: ClickHouse's HTTP interface served from the process's chdb engine.

No modern ClickHouse server installs on these machines, so the clickhouse-connect
engine is tested against this server instead. It answers the subset clickhouse-connect 1.x sends:

- GET /ping;
- POST / (and GET with ?query=) with the SQL in the body or in `query`, `param_*` bound
  parameters, `database`, settings as URL parameters, multipart form fields (long parameters);
- inserts `INSERT INTO t (cols) FORMAT <fmt>` followed by data, with the statement either in
  the body or in `query`, bodies chunked and/or compressed (lz4, zstd, gzip, deflate);
- results in whatever FORMAT the SQL names (Native for clickhouse-connect), errors with the
  X-ClickHouse-Exception-Code header.

Each request gets its own chdb connection handle (a handle is a session), so URL settings such
as readonly=1 apply to that request only. Parameters travel to chdb as parameters, never as SQL.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import uuid
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import chdb
from clickhouse_connect.driver._backend.httpcommon import decompress_response

# URL parameters that configure the HTTP exchange rather than the query.
_TRANSPORT_PARAMS = frozenset(
    {
        "query", "database", "default_format", "query_id", "session_id", "session_timeout", "session_check",
        "wait_end_of_query", "compress", "decompress", "buffer_size", "user", "password", "quota_key",
        "client_protocol_version", "enable_http_compression", "send_progress_in_http_headers",
        "http_headers_progress_interval_ms", "role",
    }
)
_INSERT_RE = re.compile(rb"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)[ \t]*(?:\r?\n)?", re.IGNORECASE | re.DOTALL)
_TRAILING_FORMAT_RE = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_CODE_RE = re.compile(r"Code: (\d+)")
_SETTING_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _decompress(body: bytes, encoding: str | None) -> bytes:
    """Streamed inserts arrive as one compressed frame per chunk: decode every frame."""
    if encoding != "lz4":
        return decompress_response(body, encoding)
    import lz4.frame

    out = []
    while body:
        decoder = lz4.frame.LZ4FrameDecompressor()
        out.append(decoder.decompress(body))
        body = decoder.unused_data
    return b"".join(out)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class ChdbHttpServer:
    """Threaded HTTP server on 127.0.0.1 backed by the chdb engine at `path`.

    `requests` records what arrived (method, URL parameters, SQL head) so tests can check
    that values travelled as parameters and not inside the SQL text.
    """

    def __init__(self, path: str, host: str = "127.0.0.1", port: int = 0):
        self.path = path
        self.requests: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ChdbHttpServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="chdb-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ChdbHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- request execution -------------------------------------------------------------

    def execute(self, params: dict[str, str], body: bytes) -> tuple[bytes, dict[str, str]]:
        query = params.get("query")
        full = body if query is None else query.encode() + (b"\n" + body if body else b"")
        bind = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
        settings = {k: v for k, v in params.items() if k not in _TRANSPORT_PARAMS and not k.startswith("param_")}
        self.requests.append({"params": dict(params), "sql": full[:4096].decode("utf-8", "replace")})
        conn = chdb.connect(self.path)
        try:
            if params.get("database"):
                conn.query(f"USE `{params['database'].replace('`', '')}`", "TabSeparated")
            # readonly last: once set, the handle refuses further SETs.
            for key in sorted(settings, key=lambda k: k == "readonly"):
                if not _SETTING_RE.match(key):
                    raise ValueError(f"Code: 115. DB::Exception: Unknown setting {key}. (UNKNOWN_SETTING)")
                conn.query(f"SET {key} = {_quote(settings[key])}", "TabSeparated")
            insert = _INSERT_RE.match(full[:65536])
            if insert:
                # FROM INFILE, the path clickhouse-connect's own chdb backend uses for inserts.
                with tempfile.NamedTemporaryFile(suffix=".data") as tmp:
                    tmp.write(full[insert.end():])
                    tmp.flush()
                    head, fmt = insert.group(1).decode(), insert.group(2).decode()
                    res = conn.query(f"{head} FROM INFILE {_quote(tmp.name)} FORMAT {fmt}", "TabSeparated")
                summary = {"written_rows": str(res.rows_read()), "written_bytes": str(res.bytes_read())}
                return b"", {"X-ClickHouse-Summary": json.dumps(summary)}
            sql = full.decode()
            fmt_match = _TRAILING_FORMAT_RE.search(sql)
            fmt = fmt_match.group(1) if fmt_match else params.get("default_format", "TabSeparated")
            result = conn.query(sql, fmt, params=bind)
            out = result.bytes() or b""
            summary = {"read_rows": str(result.rows_read()), "read_bytes": str(result.bytes_read()),
                       "elapsed_ns": str(int(result.elapsed() * 1e9))}
            headers = {"X-ClickHouse-Summary": json.dumps(summary)}
            if out or fmt_match:
                headers["X-ClickHouse-Format"] = fmt
            return out, headers
        finally:
            conn.close()


def _make_handler(server: ChdbHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-ClickHouse-Query-Id", str(uuid.uuid4()))
            self.send_header("X-ClickHouse-Timezone", "UTC")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                body = b"".join(parts)
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return _decompress(body, self.headers.get("Content-Encoding"))

        def _handle(self) -> None:
            url = urlsplit(self.path)
            if url.path.rstrip("/") == "/ping":
                self._send(200, b"Ok.\n")
                return
            if url.path not in ("", "/"):
                self._send(404, b"Not found\n")
                return
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            body = self._read_body()
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("multipart/form-data"):
                msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    params[name] = part.get_payload(decode=True).decode()
                body = b""
            try:
                out, headers = server.execute(params, body)
            except Exception as ex:  # noqa: BLE001 - every engine error becomes a ClickHouse error reply
                message = str(ex)
                idx = message.find("Code: ")
                message = message[idx:] if idx >= 0 else message
                code = _CODE_RE.search(message)
                self._send(500, message.encode() + b"\n", {"X-ClickHouse-Exception-Code": code.group(1) if code else "1000"})
                return
            self._send(200, out, headers)

        do_GET = _handle
        do_POST = _handle

    return Handler
