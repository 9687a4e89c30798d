"""The three ping dialects over HTTP, one engine behind them; one run over a real uvicorn server."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.conftest import assert_error, free_port
from tests.heartbeats.conftest import events, load

BASE = "/api/v1/heartbeats"


def _ping_id(hb: dict) -> str:
    return hb["ping_url"].rsplit("/", 1)[1]


async def test_ping_dialect(client, make_hb, alice, db):
    hb = await make_hb(interval=3600, grace=600)
    pid = _ping_id(hb)
    r = await client.get(f"/ping/{pid}", headers={"User-Agent": "curl/8.5"})
    assert r.status_code == 200 and r.text == "OK" and r.headers["content-type"].startswith("text/plain")
    row = await load(db, hb)  # durable before acknowledged: visible from another session
    assert row.status == "up" and row.n_pings == 1

    await client.post(f"/ping/{pid}/start")
    await asyncio.sleep(0.05)
    r = await client.post(f"/ping/{pid}", content=b"backup finished: 42 files")
    assert r.text == "OK"
    assert (await load(db, hb)).last_duration_ms >= 50

    assert (await client.get(f"/ping/{pid}/log", params={"x": 1})).text == "OK"
    assert (await load(db, hb)).status == "up"
    assert (await client.post(f"/ping/{pid}/fail")).text == "OK"
    assert (await load(db, hb)).status == "down"
    assert (await client.get(f"/ping/{pid}/0")).text == "OK"
    assert (await load(db, hb)).status == "up"
    assert (await client.post(f"/ping/{pid}/7")).text == "OK"
    assert (await load(db, hb)).status == "down"
    assert (await client.get(f"/ping/{pid}/255")).text == "OK"
    assert await events(db, hb) == ["heartbeat.down", "heartbeat.up", "heartbeat.down"]

    pings = (await client.get(f"{BASE}/{hb['id']}/pings", params={"per_page": 100},
                              headers=alice.bearer)).json()["items"]
    kinds = [(p["kind"], p["exit_code"]) for p in pings]
    assert kinds == [("fail", 255), ("fail", 7), ("success", 0), ("fail", None), ("log", None),
                     ("success", None), ("start", None), ("success", None)]
    first = pings[-1]
    assert (first["method"], first["user_agent"], first["dialect"]) == ("GET", "curl/8.5", "ping")
    assert first["remote_ip"]
    assert pings[2]["body"] == "" and pings[5]["body"] == "backup finished: 42 files"


def assert_text(r, status: int, text: str) -> None:
    """A ping-URL error: healthchecks' short text body (not the catalog JSON), CORS open."""
    assert (r.status_code, r.text) == (status, text), (r.status_code, r.text)
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["access-control-allow-origin"] == "*"


async def test_ping_dialect_errors(client, make_hb, alice):
    hb = await make_hb()
    pid = _ping_id(hb)
    for path in (f"/ping/{pid}/256", f"/ping/{pid}/99999", f"/ping/{pid}/0256"):
        assert_text(await client.get(path), 400, "invalid url format")
    for path in (f"/ping/{pid}/-1", f"/ping/{pid}/abc", f"/ping/{pid}/start/extra", f"/ping/{pid}//",
                 f"/ping/{uuid.uuid4()}", f"/ping/{uuid.uuid4()}/", "/ping/not-a-uuid", "/ping/not-a-uuid/",
                 f"/ping/{pid.replace('-', '')}"):  # like healthchecks: canonical UUIDs only
        assert_text(await client.get(path), 404, "not found")
    assert_text(await client.post(f"/ping/{uuid.uuid4()}/start"), 404, "not found")
    for rid in ("x" * 65, "12345", "684e2e73-017e-465f-8149-d70b7c5aaa490", ""):
        assert_text(await client.get(f"/ping/{pid}", params={"rid": rid}), 400, "invalid uuid format")
    assert (await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer)).json()["n_pings"] == 0


async def test_ping_fast_path_keeps_the_http_contract(client, make_hb, alice, outsider, app):
    """/ping/… is answered by PingFastPath, outside FastAPI's routing: same answers, same headers."""
    hb = await make_hb()
    pid = _ping_id(hb)
    r = await client.head(f"/ping/{pid}")
    assert r.status_code == 200 and r.content == b""
    r = await client.get(f"/ping/{pid}/start", headers={"X-Request-Id": "req-123"})
    assert r.text == "OK" and r.headers["content-type"].startswith("text/plain")
    assert r.headers["x-request-id"] == "req-123" and "x-ratelimit-remaining" in r.headers
    # Every shape under /ping/ is answered here, in the dialect's text.
    r = await client.put(f"/ping/{pid}")
    assert_text(r, 405, "method not allowed")
    assert r.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    r = await client.get(f"/ping/{uuid.uuid4()}")
    assert_text(r, 404, "not found")
    assert "x-request-id" in r.headers
    # The outsider's ping id is just another id: pinging it touches only the outsider's heartbeat.
    other = await make_hb(account=outsider)
    assert (await client.get(f"/ping/{_ping_id(other)}")).text == "OK"
    assert (await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer)).json()["n_pings"] == 2
    assert_error(await client.get(f"{BASE}/{other['id']}", headers=alice.bearer), 404, "NOT_FOUND")
    # The dialect stays documented.
    paths = app.openapi()["paths"]
    assert "/ping/{ping_id}" in paths and "/ping/{ping_id}/{exit_code}" in paths


async def test_ping_dialect_rid_pairs_overlapping_runs_and_body_is_bounded(client, make_hb, alice, db):
    hb = await make_hb()
    pid = _ping_id(hb)
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    await client.get(f"/ping/{pid}/start", params={"rid": one})
    await client.get(f"/ping/{pid}/start", params={"rid": two})
    await client.get(f"/ping/{pid}/1", params={"rid": one})
    r = await client.post(f"/ping/{pid}", params={"rid": two}, content=b"y" * 150_000)
    assert r.text == "OK" and r.headers["ping-body-limit"] == "100000"
    runs = (await client.get(f"{BASE}/{hb['id']}/runs", headers=alice.bearer)).json()["items"]
    assert {r["run_id"]: (r["outcome"], r["exit_code"]) for r in runs} == {one: ("fail", 1), two: ("success", None)}
    last = (await client.get(f"{BASE}/{hb['id']}/pings", headers=alice.bearer)).json()["items"][0]
    assert len(last["body"]) == 100_000 and last["body_size"] == 150_000 and last["run_id"] == two


async def test_ping_unpauses(client, make_hb, alice, db):
    hb = await make_hb()
    await client.post(f"{BASE}/{hb['id']}/pause", headers=alice.bearer)
    await client.get(f"/ping/{_ping_id(hb)}/log")
    assert (await load(db, hb)).status == "paused"
    await client.get(f"/ping/{_ping_id(hb)}")
    assert (await load(db, hb)).status == "up"


async def test_native_hb_slug(client, make_hb, alice, db):
    hb = await make_hb(name="Native Job")
    url = f"/api/v1/hb/{hb['slug']}"
    r = await client.post(url, headers=alice.bearer)
    assert r.status_code == 200, r.text
    ack = r.json()
    assert (ack["ok"], ack["kind"], ack["status"], ack["heartbeat_id"]) == (True, "success", "up", hb["id"])
    r = await client.post(url, json={"status": "start", "run_id": "build-7"}, headers=alice.bearer)
    assert r.json()["run_id"] == "build-7" and r.json()["status"] == "up"
    r = await client.post(url, json={"exit_code": 2, "run_id": "build-7", "message": "tests failed"},
                          headers=alice.bearer)
    assert (r.json()["kind"], r.json()["status"]) == ("fail", "down") and r.json()["duration_ms"] >= 0
    r = await client.post(url, json={"status": "log", "message": "note"}, headers=alice.bearer)
    assert r.json()["status"] == "down"
    r = await client.post(url, json={"status": "success"}, headers={"X-API-Key": alice.token})
    assert r.json()["status"] == "up"
    assert await events(db, hb) == ["heartbeat.down", "heartbeat.up"]
    assert_error(await client.post(url), 401, "UNAUTHENTICATED")


async def test_compat_dialect_creates_by_name_with_attribution(client, alice, db):
    name = f"nightly-{uuid.uuid4().hex[:6]}"
    headers = {"X-API-Key": alice.token, "X-Hexcovery-Host": "db-1", "X-Hexcovery-Service": "postgres",
               "X-Hexcovery-Project": "billing"}
    r = await client.post("/api/v1/heartbeat/start", json={"name": name, "run_id": "r-1"}, headers=headers)
    assert r.status_code == 200, r.text
    ack = r.json()
    assert (ack["name"], ack["kind"], ack["status"], ack["run_id"]) == (name, "start", "new", "r-1")
    hb = (await client.get(f"{BASE}/{ack['heartbeat_id']}", headers=alice.bearer)).json()
    assert (hb["interval"], hb["grace"]) == (86400, 3600)
    assert hb["attribution"] == {"host": "db-1", "service": "postgres", "project": "billing"}

    r = await client.post("/api/v1/heartbeat/log", json={"name": name, "message": "50%"}, headers=headers)
    assert r.json()["status"] == "new"
    r = await client.post("/api/v1/heartbeat/end", json={"name": name, "status": "failure", "run_id": "r-1",
                                                         "message": "disk full"}, headers=headers)
    assert (r.json()["kind"], r.json()["status"]) == ("fail", "down") and r.json()["duration_ms"] >= 0
    r = await client.post("/api/v1/heartbeat/end", json={"name": name, "status": "success"},
                          headers={"Authorization": f"Bearer {alice.token}", "X-Hexcovery-Host": "db-2"})
    assert r.json()["status"] == "up"
    r = await client.post("/api/v1/heartbeat/ping", json={"name": name}, headers={"X-API-Key": alice.token})
    assert r.json()["kind"] == "success" and r.json()["heartbeat_id"] == ack["heartbeat_id"]
    hb = (await client.get(f"{BASE}/{ack['heartbeat_id']}", headers=alice.bearer)).json()
    assert hb["attribution"]["host"] == "db-2" and hb["n_pings"] == 5
    listing = (await client.get(BASE, headers=alice.bearer)).json()
    assert [i["name"] for i in listing["items"]].count(name) == 1
    runs = (await client.get(f"{BASE}/{hb['id']}/runs", headers=alice.bearer)).json()["items"]
    assert [(r["run_id"], r["outcome"]) for r in runs] == [("r-1", "fail")]


async def test_compat_custom_schedule_errors_and_isolation(client, alice, outsider):
    r = await client.post("/api/v1/heartbeat/ping", json={"name": "hourly", "interval": 3600, "grace": 300},
                          headers={"X-API-Key": alice.token})
    hb = (await client.get(f"{BASE}/{r.json()['heartbeat_id']}", headers=alice.bearer)).json()
    assert (hb["interval"], hb["grace"]) == (3600, 300)
    # Same name in another tenant is another job.
    r2 = await client.post("/api/v1/heartbeat/ping", json={"name": "hourly"}, headers={"X-API-Key": outsider.token})
    assert r2.json()["heartbeat_id"] != r.json()["heartbeat_id"]
    assert_error(await client.get(f"{BASE}/{r2.json()['heartbeat_id']}", headers=alice.bearer), 404, "NOT_FOUND")
    for body in ({}, {"name": ""}, {"name": "x", "exit_code": 256}, {"name": "x", "status": "meh"}):
        assert_error(await client.post("/api/v1/heartbeat/end", json=body, headers={"X-API-Key": alice.token}),
                     422, "VALIDATION_FAILED")
    assert_error(await client.post("/api/v1/heartbeat/ping", json={"name": "x"}), 401, "UNAUTHENTICATED")
    assert_error(await client.post("/api/v1/heartbeat/ping", json={"name": "x"},
                                   headers={"X-API-Key": "xinex_" + "0" * 64}), 401, "UNAUTHENTICATED")
    assert_error(await client.post("/api/v1/heartbeat/explode", json={"name": "x"},
                                   headers={"X-API-Key": alice.token}), 404, "NOT_FOUND")


async def test_real_uvicorn_server(app, alice, make_hb, db):
    import uvicorn

    hb = await make_hb(interval=3600, grace=60)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.02)
        assert server.started
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as real:
            r = await real.get(f"/ping/{_ping_id(hb)}/start")
            assert r.status_code == 200 and r.text == "OK"
            r = await real.post(f"/ping/{_ping_id(hb)}", content=b"hello from curl")
            assert r.text == "OK" and "x-request-id" in r.headers
            assert (await real.get(f"/ping/{uuid.uuid4()}")).status_code == 404
            r = await real.post("/api/v1/heartbeat/ping", json={"name": "over-tcp"},
                                headers={"X-API-Key": alice.token, "X-Hexcovery-Host": "real-host"})
            assert r.status_code == 200 and r.json()["status"] == "up"
        row = await load(db, hb)
        assert row.status == "up" and row.n_pings == 2 and row.last_duration_ms is not None
        pings = (await httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t").get(
            f"{BASE}/{hb['id']}/pings", headers=alice.bearer)).json()["items"]
        assert pings[0]["remote_ip"] == "127.0.0.1" and pings[0]["body"] == "hello from curl"
    finally:
        server.should_exit = True
        await task


async def test_native_and_job_run_dialects_share_the_engine_semantics(client, alice, outsider, db):
    """A start without an end is down after grace, an end with another run id ends the running state
    when it is a failure, whichever dialect reported them."""
    from datetime import timedelta

    from xinex.heartbeats.jobs import sweep_due
    from xinex.kit.types import utcnow

    headers = {"X-API-Key": alice.token}
    name = f"etl-{uuid.uuid4().hex[:6]}"
    r = await client.post("/api/v1/heartbeat/start", json={"name": name, "run_id": "r-1", "grace": 120},
                          headers=headers)
    ack = r.json()
    hb = (await client.get(f"{BASE}/{ack['heartbeat_id']}", headers=alice.bearer)).json()
    row = await load(db, hb)
    assert (row.status, row.down_at) == ("new", row.last_start_at + timedelta(seconds=120))
    await sweep_due(db, now=row.down_at)
    assert (await load(db, hb)).status == "down"
    # Going down gave r-1 up (timeout); the end of another run id that failed closes the running
    # state, and r-1 stays unmeasured.
    r = await client.post("/api/v1/heartbeat/end", json={"name": name, "run_id": "r-2", "status": "failure"},
                          headers=headers)
    assert (r.json()["status"], r.json()["duration_ms"]) == ("down", None)
    runs = (await client.get(f"{BASE}/{hb['id']}/runs", headers=alice.bearer)).json()["items"]
    assert [(x["run_id"], x["outcome"], x["duration_ms"]) for x in runs] == [("r-1", "timeout", None)]
    assert (await load(db, hb)).last_start_at is None

    # The native dialect: the same rules on a heartbeat addressed by slug.
    r = await client.post(f"/api/v1/hb/{hb['slug']}", json={"status": "start"}, headers=alice.bearer)
    assert r.json()["status"] == "down"
    row = await load(db, hb)
    assert row.alert_after is None  # down: no deadline until it recovers
    r = await client.post(f"/api/v1/hb/{hb['slug']}", json={"exit_code": 0}, headers=alice.bearer)
    assert (r.json()["status"], r.json()["kind"]) == ("up", "success") and r.json()["duration_ms"] is not None
    row = await load(db, hb)
    assert row.late_at is not None and row.late_at > utcnow() and row.last_start_at is None
    assert_error(await client.post(f"/api/v1/hb/{hb['slug']}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_an_explicit_failure_is_not_undone_by_exit_code_zero(client, make_hb, alice, outsider):
    """`status: failure` with `exit_code: 0` contradicts itself; a failure from either field wins (docs/compatibility.md)."""
    name = f"contradiction-{uuid.uuid4().hex[:6]}"
    for path in ("end", "ping"):
        r = await client.post(f"/api/v1/heartbeat/{path}", headers=alice.bearer,
                              json={"name": name, "status": "failure", "exit_code": 0})
        assert (r.status_code, r.json()["kind"], r.json()["status"]) == (200, "fail", "down"), r.text
        r = await client.post(f"/api/v1/heartbeat/{path}", headers=alice.bearer,
                              json={"name": name, "status": "success", "exit_code": 3})
        assert (r.json()["kind"], r.json()["status"]) == ("fail", "down")
        r = await client.post(f"/api/v1/heartbeat/{path}", headers=alice.bearer, json={"name": name, "exit_code": 0})
        assert (r.json()["kind"], r.json()["status"]) == ("success", "up")
    hb = await make_hb(name="Native contradiction")
    r = await client.post(f"/api/v1/hb/{hb['slug']}", json={"status": "fail", "exit_code": 0}, headers=alice.bearer)
    assert (r.json()["kind"], r.json()["status"]) == ("fail", "down")
    # The outsider's token cannot reach alice's heartbeat by slug.
    r = await client.post(f"/api/v1/hb/{hb['slug']}", json={"status": "fail", "exit_code": 0}, headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")
