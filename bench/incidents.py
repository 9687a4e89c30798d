"""Issue 4: deadline-to-notification latency (missed heartbeat → webhook received) with 10,000
active heartbeats, and WebSocket fan-out latency to 1,000 connected clients.

Same two deployments as bench/heartbeats.py: "postgresql" (API + Redis + `xinex worker`) and
"embedded" (SQLite + chdb, no Redis, everything in the API process).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx

from bench.harness import PYTHON, ROOT, percentile
from bench.heartbeats import MODES, account, deployment, insert_heartbeats

ACTIVE = 10_000
MISSING = 200
MISSING_SPREAD_S = 60
WS_CLIENTS = 1_000
WS_PROCESSES = 2
WS_EVENTS = 20  # incidents opened by fail pings (incident.triggered), then acknowledged via the API


# --- deadline -> notification -----------------------------------------------------------------

class Receiver:
    """A real HTTP server on 127.0.0.1 that timestamps every webhook POST on arrival."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict]] = []
        arrivals = self.arrivals

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                at = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrivals.append((at, json.loads(body or b"{}")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wire_paging(api: str, token: str, url: str) -> None:
    """Webhook channel → escalation policy (step 0, no delay) → routing rule for heartbeats."""
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        r = c.post("/api/v1/notification-channels", json={"name": "bench hook", "kind": "webhook", "config": {"url": url}})
        r.raise_for_status()
        r = c.post("/api/v1/escalation-policies", json={"name": "bench policy", "steps": [
            {"delay_minutes": 0, "targets": [{"type": "channel", "id": r.json()["id"]}]}]})
        r.raise_for_status()
        c.post("/api/v1/alert-routing-rules", json={"name": "heartbeats", "source_type": "heartbeat",
                                                    "escalation_policy_id": r.json()["id"]}).raise_for_status()


_NAME = re.compile(r"notify-(\d{5})")


def notification_latency(api: str, db_url: str) -> dict:
    token, tenant_id = account(api, db_url)
    receiver = Receiver()
    try:
        _wire_paging(api, token, receiver.url)
        t0 = datetime.now(UTC) + timedelta(seconds=20)
        due = [t0 + timedelta(seconds=MISSING_SPREAD_S * i / MISSING) for i in range(MISSING)]
        later = [t0 + timedelta(days=1)] * (ACTIVE - MISSING)
        asyncio.run(insert_heartbeats(db_url, tenant_id, due + later, "notify"))
        until = due[-1].timestamp() + 30
        while time.time() < until and len({_index(b) for _, b in receiver.arrivals} - {None}) < MISSING:
            time.sleep(0.2)
        time.sleep(2)  # a duplicate page would arrive now
    finally:
        receiver.close()
    first: dict[int, float] = {}
    per_heartbeat: dict[int, int] = {}
    for at, body in receiver.arrivals:
        i = _index(body)
        if i is None or i >= MISSING:
            continue
        per_heartbeat[i] = per_heartbeat.get(i, 0) + 1
        first.setdefault(i, at)
    lat = [(first[i] - due[i].timestamp()) * 1000 for i in first]
    return {"active": ACTIVE, "missing": MISSING, "received": len(first),
            "duplicates": sum(n > 1 for n in per_heartbeat.values()),
            "events": sorted({b.get("event") for _, b in receiver.arrivals}),
            "p50_ms": percentile(lat, 50) if lat else None, "p99_ms": percentile(lat, 99) if lat else None,
            "max_ms": max(lat) if lat else None, "over_2s": sum(v > 2000 for v in lat)}


def _index(body: dict) -> int | None:
    m = _NAME.search(str(body.get("title", "")))
    return int(m.group(1)) if m else None


# --- WebSocket fan-out ------------------------------------------------------------------------

async def _clients(url: str, n: int) -> None:
    """Client process: connect n sockets, say READY, record (receive − ts) for every incident
    event until a line arrives on stdin, then print the latencies as JSON."""
    import websockets

    latencies: list[float] = []
    gate = asyncio.Semaphore(50)

    async def one(ready: asyncio.Event, stop: asyncio.Event, opened: list) -> None:
        async with gate:
            ws = await websockets.connect(url, open_timeout=60, max_queue=None)
            await ws.recv()  # hello
        opened.append(ws)
        if len(opened) == n:
            ready.set()
        try:
            while not stop.is_set():
                data = await ws.recv()
                at = time.time()
                event = json.loads(data)
                if event.get("type", "").startswith("incident.") and "ts" in event:
                    latencies.append((at - datetime.fromisoformat(event["ts"]).timestamp()) * 1000)
        except websockets.ConnectionClosed:
            return

    ready, stop, opened = asyncio.Event(), asyncio.Event(), []
    tasks = [asyncio.create_task(one(ready, stop, opened)) for _ in range(n)]
    await ready.wait()
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    stop.set()
    for ws in opened:
        await ws.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(latencies), flush=True)


def fanout(api: str, db_url: str) -> dict:
    token, _tenant_id = account(api, db_url)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api, headers=auth, timeout=30) as c:
        paths = []
        for i in range(WS_EVENTS):
            r = c.post("/api/v1/heartbeats", json={"name": f"fanout-{i}", "interval": 3600, "grace": 3600})
            r.raise_for_status()
            paths.append(httpx.URL(r.json()["ping_url"]).path)
    ws_url = "ws" + api[4:] + f"/api/v1/ws?token={token}"
    procs = [subprocess.Popen([PYTHON, "-m", "bench.incidents", "clients", ws_url, str(WS_CLIENTS // WS_PROCESSES)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(WS_PROCESSES)]
    try:
        for p in procs:
            if p.stdout.readline().strip() != "READY":
                raise RuntimeError("WebSocket clients did not connect")
        with httpx.Client(base_url=api, headers=auth, timeout=30) as c:
            for path in paths:  # fail ping → heartbeat.down → incident.triggered, published by the engine
                c.post(path + "/fail").raise_for_status()
                time.sleep(0.5)
            deadline = time.time() + 30
            ids: list[str] = []
            while time.time() < deadline and len(ids) < WS_EVENTS:
                ids = [i["id"] for i in c.get("/api/v1/incidents", params={"status": "triggered", "per_page": 100})
                       .json()["items"]]
                time.sleep(0.5)
            for incident_id in ids:  # ack via the API → incident.acknowledged, published by the API
                c.post(f"/api/v1/incidents/{incident_id}/ack").raise_for_status()
                time.sleep(0.5)
        time.sleep(3)
        latencies: list[float] = []
        for p in procs:
            out, _ = p.communicate("stop\n", timeout=120)
            latencies += json.loads(out.strip().splitlines()[-1])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    expected = WS_CLIENTS * (WS_EVENTS + len(ids))
    return {"clients": WS_CLIENTS, "events": WS_EVENTS + len(ids), "deliveries": len(latencies), "expected": expected,
            "p50_ms": percentile(latencies, 50) if latencies else None,
            "p99_ms": percentile(latencies, 99) if latencies else None,
            "max_ms": max(latencies) if latencies else None}


def run(pg_url: str, redis_url: str, data_dir: str) -> dict:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # 1,000 sockets per side
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    out: dict = {}
    for mode in MODES:
        with deployment(mode, pg_url, redis_url, data_dir) as (api, db_url):
            out[mode] = {"notify": notification_latency(api, db_url), "fanout": fanout(api, db_url)}
        print(mode, out[mode], flush=True)
    return out


def _ms(v) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def report(res: dict) -> str:
    lines = [
        "## Incidents: deadline-to-notification latency; WebSocket fan-out",
        "",
        "Same two deployments as the heartbeat section (postgresql = API + Redis + `xinex worker`; embedded =",
        "SQLite + chdb, no Redis, one process), private targets allowed for the local receiver.",
        "",
        f"**Missed heartbeat → webhook received.** A fresh tenant with {ACTIVE:,} `up` heartbeats (inserted through",
        f"the ORM); {MISSING} of them have deadlines spread over {MISSING_SPREAD_S} s, the rest are due tomorrow.",
        "Wired through the API: a routing rule (source heartbeat) → an escalation policy whose step 0",
        "(no delay) pages a generic-webhook channel → a real HTTP server on 127.0.0.1 that timestamps each",
        "POST on arrival. Path: sweeper flips to late (outbox) → incident engine opens the incident and fires",
        "step 0 → the delivery job POSTs. Latency = arrival − the heartbeat's deadline.",
        "",
        "| deployment | received | duplicate pages | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        n = res[mode]["notify"]
        lines.append(f"| {mode} | {n['received']}/{n['missing']} | {n['duplicates']} | {_ms(n['p50_ms'])} | "
                     f"{_ms(n['p99_ms'])} | {_ms(n['max_ms'])} |")
    lines.append("")
    for mode in MODES:
        n = res[mode]["notify"]
        if n.get("over_2s"):
            lines.append(f"- {mode}: {n['over_2s']} of {n['received']} notifications took over 2 s.")
        if n["received"] < n["missing"]:
            lines.append(f"- {mode}: **missed** — only {n['received']} of {n['missing']} notifications arrived.")
        elif n["p99_ms"] > 2000:
            lines.append(f"- {mode}: target p99 ≤ 2 s **missed** ({n['p99_ms']:.0f} ms).")
        else:
            lines.append(f"- {mode}: target p99 ≤ 2 s met ({n['p99_ms']:.0f} ms).")
    lines += [
        "",
        f"**WebSocket fan-out.** {WS_CLIENTS:,} clients (the `websockets` library, {WS_PROCESSES} client processes on the",
        f"same machine) connect to `/api/v1/ws` with an API token. {WS_EVENTS} fail pings open {WS_EVENTS} incidents",
        "(`incident.triggered`, published by the incident engine after its commit), then each is",
        "acknowledged through `POST /incidents/{id}/ack` (`incident.acknowledged`, published by the API), 0.5 s",
        "apart. Latency = the client's receive time − the event's `ts` (stamped when it is published).",
        "The client processes share the 2 cores with the server, so client-side queuing is included.",
        "",
        "| deployment | deliveries / expected | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for mode in MODES:
        f = res[mode]["fanout"]
        lines.append(f"| {mode} | {f['deliveries']:,} / {f['expected']:,} | {_ms(f['p50_ms'])} | {_ms(f['p99_ms'])} | "
                     f"{_ms(f['max_ms'])} |")
    lines.append("")
    for mode in MODES:
        f = res[mode]["fanout"]
        if f["p99_ms"] is None or f["deliveries"] < f["expected"]:
            lines.append(f"- {mode}: **missed** — {f['deliveries']} of {f['expected']} deliveries arrived"
                         + (f"; p99 {f['p99_ms']:.0f} ms." if f["p99_ms"] is not None else "."))
        elif f["p99_ms"] >= 100:
            lines.append(f"- {mode}: target p99 < 100 ms **missed** ({f['p99_ms']:.0f} ms).")
        else:
            lines.append(f"- {mode}: target p99 < 100 ms met ({f['p99_ms']:.0f} ms).")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__" and sys.argv[1:2] == ["clients"]:
    asyncio.run(_clients(sys.argv[2], int(sys.argv[3])))
