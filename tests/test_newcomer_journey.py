"""A newcomer's first alert, over HTTP on `xinex run` with nothing configured: register → token → heartbeat →
channel (no routing rule) → ping → miss. The channel gets the page once interval + grace have passed, not before;
during grace the heartbeat shows `late` and nobody is paged (healthchecks semantics)."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid

import httpx

from tests.embedded import embedded_server

INTERVAL, GRACE = 3, 4


class _Receiver(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.pages: list[tuple[float, dict]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.pages.append((time.monotonic(), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)


def test_first_alert_arrives_after_interval_plus_grace_and_not_before(tmp_path):
    receiver = _Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with embedded_server(tmp_path) as server, httpx.Client(base_url=server.base, timeout=30) as c:
            email, password = f"new-{uuid.uuid4().hex[:8]}@example.com", "my first xinex passphrase"
            assert c.post("/api/v1/auth/register", json={"email": email, "password": password}).status_code == 201
            login = c.post("/api/v1/auth/login", json={"email": email, "password": password})
            # Sent as a browser on 127.0.0.1 would: httpx keeps Secure cookies for https only.
            browser = {"Cookie": "; ".join(f"{k}={v}" for k, v in login.cookies.items()),
                       "X-CSRF-Token": login.json()["csrf_token"]}
            token = c.post("/api/v1/api-tokens", json={"name": "cli"}, headers=browser).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            hb = c.post("/api/v1/heartbeats", json={"name": "etl", "interval": INTERVAL, "grace": GRACE}, headers=auth)
            assert hb.status_code == 201, hb.text  # a self-hosted install is not on the free plan's floor
            channel = c.post("/api/v1/notification-channels", headers=auth, json={
                "name": "hook", "kind": "webhook",
                "config": {"url": f"http://127.0.0.1:{receiver.server_port}/hook"}})
            assert channel.status_code == 201 and channel.json()["default"] is True, channel.text

            assert c.get(hb.json()["ping_url"]).status_code == 200
            pinged = time.monotonic()
            # Late (in grace): shown, not paged. (The sweeper may lag a loaded machine by a moment, so the
            # late state is required to show up, not to show up on the dot.)
            seen = set()
            while time.monotonic() < pinged + INTERVAL + GRACE - 0.5:
                seen.add(c.get(f"/api/v1/heartbeats/{hb.json()['id']}", headers=auth).json()["status"])
                assert not receiver.pages, receiver.pages
                time.sleep(0.2)
            assert "late" in seen and "down" not in seen, seen
            deadline = pinged + INTERVAL + GRACE + 15
            while not receiver.pages and time.monotonic() < deadline:
                time.sleep(0.1)
            assert receiver.pages, "the channel never got the page:\n" + server.log()[-3000:]
            at, page = receiver.pages[0]
            assert at >= pinged + INTERVAL + GRACE - 0.5
            assert page["event"] == "incident.triggered" and "etl is down" in page["title"]
            assert c.get(f"/api/v1/heartbeats/{hb.json()['id']}", headers=auth).json()["status"] == "down"
    finally:
        receiver.shutdown()
