"""A local server that speaks Grafana OnCall's public API JSON shapes over real HTTP (`Authorization:
<token>`; every list paged two at a time as {count, next, previous, results, page_size,
current_page_number, total_pages}), for the importer's tests."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGE = 2


class FakeGrafanaOnCall:
    def __init__(self, token: str, data: dict) -> None:
        self.token, self.data, self.requests = token, data, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def _answer(self, status: int, body: dict) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                fake.requests.append(self.path)
                if self.headers.get("Authorization") != fake.token:
                    return self._answer(401, {"detail": "Invalid token."})
                name = url.path.removeprefix("/api/v1/").strip("/")
                if name not in fake.data:
                    return self._answer(404, {"detail": "Not found."})
                items = fake.data[name]
                number = int(parse_qs(url.query).get("page", ["1"])[0])
                pages = max(1, math.ceil(len(items) / PAGE))
                link = f"{fake.url}/api/v1/{name}/?page="
                return self._answer(200, {
                    "count": len(items), "next": f"{link}{number + 1}" if number < pages else None,
                    "previous": f"{link}{number - 1}" if number > 1 else None,
                    "results": items[(number - 1) * PAGE:number * PAGE], "page_size": PAGE,
                    "current_page_number": number, "total_pages": pages})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
