"""A local server that speaks PagerDuty's REST API JSON shapes over real HTTP (classic pagination:
limit, offset, more — it pages two objects at a time whatever limit is asked, as PagerDuty caps it),
for the importer's tests."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGE = 2


class FakePagerDuty:
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
                fake.requests.append(url.path)
                if self.headers.get("Authorization") != f"Token token={fake.token}":
                    return self._answer(401, {"error": {"message": "Unauthorized", "code": 2006}})
                single = re.fullmatch(r"/schedules/(\w+)", url.path)
                if single:
                    found = [s for s in fake.data["schedules"] if s["id"] == single.group(1)]
                    return self._answer(200, {"schedule": found[0]}) if found else self._answer(404, {})
                name = url.path.strip("/")
                if name not in fake.data:
                    return self._answer(404, {"error": {"message": "Not Found", "code": 2100}})
                items = fake.data[name]
                if name == "schedules":  # the list has summaries; the layers come with GET /schedules/{id}
                    items = [{"id": s["id"], "name": s["name"], "type": "schedule"} for s in items]
                query = parse_qs(url.query)
                offset = int(query.get("offset", ["0"])[0])
                limit = min(int(query.get("limit", ["25"])[0]), PAGE)
                page = items[offset:offset + limit]
                return self._answer(200, {name: page, "limit": limit, "offset": offset,
                                          "more": offset + limit < len(items), "total": None})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
