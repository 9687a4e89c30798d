"""What `xinex run` prints: where it listens and keeps data, the first-account hint, then requests and incidents.
A second uvicorn server in the process (the OTLP/HTTP receiver) used to silence all of it after start-up."""

from __future__ import annotations

import uuid

import httpx

from tests.embedded import embedded_server


def test_xinex_run_tells_where_it_listens_then_logs_requests_and_incidents(tmp_path):
    with embedded_server(tmp_path) as server:
        start = server.wait_for_log("No account yet")
        assert f"HTTP      http://127.0.0.1:{server.port}" in start
        assert f"SQLite {(tmp_path / 'var' / 'xinex.db').resolve()}" in start
        assert "OTLP      gRPC 127.0.0.1:" in start and "jobs      in this process" in start
        server.wait_for_log("OTLP receivers: gRPC on")  # the receivers started, and said so
        assert f"curl -sS -X POST http://127.0.0.1:{server.port}/api/v1/auth/register" in start

        with httpx.Client(base_url=server.base, timeout=30) as c:
            email = f"log-{uuid.uuid4().hex[:8]}@example.com"
            r = c.post("/api/v1/auth/register", json={"email": email, "password": "a long enough passphrase 7",
                                                      "name": "Log"})
            assert r.status_code == 201, r.text
            # The access log is back (after the OTLP server started), without query strings.
            c.get("/api/v1/me?token=secret-in-query")
            server.wait_for_log('"GET /api/v1/me HTTP/1.1" 401')
            assert "secret-in-query" not in server.log()

            login = c.post("/api/v1/auth/login", json={"email": email, "password": "a long enough passphrase 7"})
            assert login.status_code == 200, login.text
            csrf = login.json()["csrf_token"]
            session = {"Cookie": "; ".join(f"{k}={v}" for k, v in login.cookies.items()), "X-CSRF-Token": csrf}
            hb = c.post("/api/v1/heartbeats", json={"name": "nightly backup"}, headers=session)
            assert hb.status_code == 201, hb.text
            # A failure ping opens an incident at once: its line appears on the terminal.
            assert c.get(f"{hb.json()['ping_url'].replace('http://127.0.0.1:8000', server.base)}/fail").status_code == 200
            out = server.wait_for_log("nightly backup")
            line = next(x for x in out.splitlines() if "incident" in x and "nightly backup" in x)
            assert "xinex.incidents" in line
