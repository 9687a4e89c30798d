"""The HTTP server under the fakes of PagerDuty's, Opsgenie's and Grafana OnCall's REST APIs: a real
server on 127.0.0.1 that records each request and answers JSON; a fake says how to authorize a request
and what to answer (`answer`), including its API's own way of paging lists (PAGE objects a page)."""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

PAGE = 2  # every fake pages its lists two objects at a time, whatever size is asked


class FakeApi(ABC):
    record_query = True  # `requests` keeps each path with its query string (False: the path alone)

    def __init__(self, data: dict) -> None:
        self.data: dict = data
        self.requests: list[str] = []  # the paths asked, in order
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                url = urlparse(self.path)
                fake.requests.append(self.path if fake.record_query else url.path)
                status, body = fake.answer(url.path, parse_qs(url.query), self.headers)
                raw = json.dumps(fake.envelope(body)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @abstractmethod
    def answer(self, path: str, query: dict[str, list[str]], headers: Any) -> tuple[int, dict]:
        """(status, JSON body) of a GET: each fake speaks its own API here."""

    def envelope(self, body: dict) -> dict:
        """What every answer of this API carries besides its body (Opsgenie's took and requestId)."""
        return body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
