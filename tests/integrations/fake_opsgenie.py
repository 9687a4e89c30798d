"""A local server that speaks Opsgenie's REST API JSON shapes over real HTTP (`GenieKey` auth; users
paged two at a time with paging.next, as {data, paging, took, requestId}), for the importer's tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGE = 2


class FakeOpsgenie:
    def __init__(self, key: str, data: dict) -> None:
        self.key, self.data, self.requests = key, data, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def _answer(self, status: int, body: dict) -> None:
                raw = json.dumps({**body, "took": 0.01, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):  # noqa: N802
                url = urlparse(self.path)
                query = parse_qs(url.query)
                fake.requests.append(self.path)
                if self.headers.get("Authorization") != f"GenieKey {fake.key}":
                    return self._answer(401, {"message": "Could not authenticate"})
                name = url.path.removeprefix("/v2/")
                if name not in fake.data:
                    return self._answer(404, {"message": "Not found"})
                items = fake.data[name]
                if name == "schedules" and query.get("expand") != ["rotation"]:
                    items = [{k: v for k, v in s.items() if k != "rotations"} for s in items]
                if name != "users":
                    return self._answer(200, {"data": items})
                offset = int(query.get("offset", ["0"])[0])
                page = items[offset:offset + PAGE]
                paging = {"first": f"{fake.url}/v2/users?offset=0&limit={PAGE}"}
                if offset + PAGE < len(items):
                    paging["next"] = f"{fake.url}/v2/users?offset={offset + PAGE}&limit={PAGE}"
                return self._answer(200, {"data": page, "paging": paging, "totalCount": len(items)})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
