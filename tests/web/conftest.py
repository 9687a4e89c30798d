"""One real `xinex run` (the web app it serves built by `make install`) and a real SMTP sink for every browser
test of the session; the sink's messages are readable over HTTP by the Node.js tests (MAILBOX_URL)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import free_port
from tests.embedded import EmbeddedServer, embedded_server
from tests.web.node import CHROMIUM, FRONTEND


@dataclass
class WebApp:
    server: EmbeddedServer
    mailbox_url: str
    otlp_url: str  # the server's OTLP/HTTP receiver, for journeys that send traces and logs


def _mailbox_http(box) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's hook
            url = urlsplit(self.path)
            to = parse_qs(url.query).get("to", [""])[0]
            found = [{"to": m["To"], "subject": m["Subject"], "text": m.get_body(("plain",)).get_content()}
                     for m in list(box.messages) if not to or m["To"] == to]
            body = json.dumps(found).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(scope="session")
def webapp(smtp_server, tmp_path_factory) -> Iterator[WebApp]:
    assert (FRONTEND / "dist" / "index.html").is_file(), "the web app is not built: run `make install`"
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is missing: `make install` installs Debian's chromium"
    http = _mailbox_http(smtp_server)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        # Every journey signs up and in from 127.0.0.1: the per-address sign-in limits would be what they test.
        otlp_port = free_port()
        with embedded_server(tmp_path_factory.mktemp("webapp"), XINEX_SMTP_URL=os.environ["XINEX_SMTP_URL"],
                             XINEX_WEB_DIST=str(FRONTEND / "dist"), XINEX_RATE_LIMIT_LOGIN_IP="1000/minute",
                             XINEX_RATE_LIMIT_RESET="100/minute", XINEX_OTLP_HTTP_PORT=str(otlp_port)) as server:
            yield WebApp(server=server, mailbox_url=f"http://127.0.0.1:{http.server_address[1]}",
                         otlp_url=f"http://127.0.0.1:{otlp_port}")
    finally:
        http.shutdown()
        http.server_close()
