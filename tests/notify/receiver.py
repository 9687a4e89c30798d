"""A real HTTP peer on 127.0.0.1 (http.server in a thread): records every request and answers
with scripted responses (status, headers, body), or drops the connection to simulate a timeout."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: bool = False  # a response was written (a stalled request's sender may be gone)

    def json(self):
        return json.loads(self.body)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        # Consumed first; "drop" closes the socket, "stall" holds the request until release().
        self.script: list[tuple[int, dict, bytes] | str] = []
        self.default: tuple[int, dict, bytes] = (200, {}, b"ok")
        self.stalled = threading.Event()  # set when a request starts stalling
        self._released = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                return

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                received = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver._lock:
                    receiver.requests.append(received)
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                if answer == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if answer == "stall":
                    receiver.stalled.set()
                    receiver._released.wait()
                    self.close_connection = True
                    self.connection.close()  # whoever sent it is gone or has given up
                    return
                status, headers, payload = answer
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                received.answered = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def respond(self, *answers) -> None:
        with self._lock:
            self.script.extend(answers)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def release(self) -> None:
        self._released.set()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


def verify_standard_webhook(secret: str, received: Received) -> list[bool]:
    """Independent Standard Webhooks check: one bool per `v1,` signature in the header."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id = received.headers["webhook-id"]
    ts = received.headers["webhook-timestamp"]
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + received.body, hashlib.sha256)
                                .digest()).decode()
    out = []
    for part in received.headers["webhook-signature"].split(" "):
        version, _, sig = part.partition(",")
        out.append(version == "v1" and hmac.compare_digest(sig, expected))
    return out
