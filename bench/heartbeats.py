"""Issue 3: durable heartbeat pings/s vs a bare hello-world, and deadline-to-state-change lag.

Two deployments of the same code, each a real `uvicorn` process:
- "postgresql": the production shape — API on PostgreSQL + Redis, and a `xinex worker` process
  running the sweeper, the incident engine and the other loops;
- "embedded": the default — SQLite + chdb in a temp XINEX_DATA_DIR, no Redis, the loops inside
  the API process.
The helpers here (servers, accounts, bulk heartbeats) are shared with bench/incidents.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.harness import PYTHON, ROOT, free_port, median, percentile, uvicorn_server, wait_until_settled, wrk

ROUNDS = 3
PING_HEARTBEATS = 200
CONNECTIONS = 32
# Pings come from many independent hosts; group commit shares a transaction among whatever is in
# flight, so the load is measured at two client counts (the hello-world at the same counts).
PING_CONNECTIONS = (32, 128)
LAG_TOTAL = 10_000
LAG_SPREAD = 2_000  # deadlines spread evenly over LAG_SPREAD_S
LAG_SPREAD_S = 30
LAG_BURST = 1_000  # deadlines all at one instant (a cron at the top of the hour)
MODES = ("postgresql", "embedded")


# --- deployments -----------------------------------------------------------------------------

def base_env(data_dir: str) -> dict[str, str]:
    return {
        "XINEX_ENV": "development",
        "XINEX_SMTP_URL": "",  # no mail: registration signs in at once (docs/security.md)
        "XINEX_DATA_DIR": data_dir,
        "XINEX_DATABASE_URL": "",
        "XINEX_REDIS_URL": "",
        # Raised so wrk measures the ping path rather than 429s (the limiter still runs).
        "XINEX_RATE_LIMIT_DEFAULT": "100000000/minute",
        "XINEX_PING_RATE_LIMIT_PER_MINUTE": "100000000",  # the per-heartbeat throttle still runs
        "XINEX_COOKIE_SECURE": "false",
        "XINEX_OUTBOUND_ALLOW_PRIVATE": "true",  # the webhook receiver is on 127.0.0.1
        # Other sessions on this machine may hold the default OTLP ports.
        "XINEX_OTLP_GRPC_PORT": str(free_port()),
        "XINEX_OTLP_HTTP_PORT": str(free_port()),
    }


def _stop(proc: subprocess.Popen, grace_s: float = 60) -> None:
    """SIGTERM, then SIGKILL if it is still busy (a worker deep in a backlog on a loaded machine
    must not turn a finished measurement into a failed run)."""
    proc.terminate()
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def db_url_of(mode: str, pg_url: str, data_dir: str) -> str:
    return pg_url if mode == "postgresql" else f"sqlite+aiosqlite:///{Path(data_dir).resolve() / 'xinex.db'}"


@contextlib.contextmanager
def deployment(mode: str, pg_url: str, redis_url: str, root_dir: str):
    """Yield (api base URL, database URL) of a running deployment in `mode`."""
    data_dir = tempfile.mkdtemp(prefix=f"{mode}-", dir=root_dir)
    env = base_env(data_dir)
    if mode == "postgresql":
        env.update(XINEX_DATABASE_URL=pg_url, XINEX_REDIS_URL=redis_url)
    db_url = db_url_of(mode, pg_url, data_dir)
    from xinex.migrate import upgrade

    upgrade(db_url)
    with contextlib.ExitStack() as stack:
        api = stack.enter_context(uvicorn_server("xinex.app:create_app", env, factory=True))
        if mode == "postgresql":
            worker = subprocess.Popen([str(Path(PYTHON).parent / "xinex"), "worker"], env={**os.environ, **env},
                                      cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(_stop, worker)
            wait_until_settled(worker.pid)  # its start-up must not share the cores with a measurement
        yield api, db_url


def account(api: str, db_url: str) -> tuple[str, uuid.UUID]:
    """A new tenant on the enterprise tier (no count limits, escalation policies) and its API token."""
    with httpx.Client(base_url=api, timeout=30) as c:
        r = c.post("/api/v1/auth/register", json={"email": f"bench-{time.time_ns()}@example.com",
                                                  "password": "bench password 123"})
        r.raise_for_status()
        tenant_id = uuid.UUID(r.json()["tenant_id"])
        token = c.post("/api/v1/api-tokens", json={"name": "bench"},
                       headers={"X-CSRF-Token": r.json()["csrf_token"]}).json()["token"]
    asyncio.run(_set_tier(db_url, tenant_id))
    return token, tenant_id


async def _set_tier(db_url: str, tenant_id: uuid.UUID) -> None:
    from sqlalchemy import update
    from xinex.kit.db import Database
    from xinex.models.tenant import Tenant

    db = Database(db_url)
    try:
        async with db.session(system="bench.tier") as s:
            await s.execute(update(Tenant).where(Tenant.id == tenant_id).values(tier="enterprise"))
    finally:
        await db.dispose()


async def insert_heartbeats(db_url: str, tenant_id: uuid.UUID, late_ats: list[datetime], prefix: str,
                            grace: timedelta = timedelta(hours=1)) -> list[uuid.UUID]:
    """Bulk-insert `up` heartbeats whose next deadline (late_at) is each of `late_ats`; they announce
    (page) late, so the lag of the first transition is what the sections measure."""
    from xinex.kit.db import Database
    from xinex.models.heartbeats import Heartbeat

    db = Database(db_url)
    ids = []
    try:
        for start in range(0, len(late_ats), 1000):
            async with db.session(tenant_id=tenant_id) as s:
                for i, late in enumerate(late_ats[start:start + 1000], start):
                    hb = Heartbeat(tenant_id=tenant_id, name=f"{prefix}-{i:05d}", slug=f"{prefix}-{i:05d}",
                                   interval_s=3600, grace_s=int(grace.total_seconds()), status="up",
                                   last_ping_at=late - timedelta(hours=1), late_at=late, down_at=late + grace,
                                   alert_after=late, notify_late=True)
                    s.add(hb)
                    ids.append(hb.id)
    finally:
        await db.dispose()
    return ids


# --- pings/s ---------------------------------------------------------------------------------

LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", paths[(i %% #paths) + 1])
end
"""


def wrk_script(url: str, script: str, seconds: int = 8, connections: int = CONNECTIONS) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    units = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        lat[f"p{pct}_ms"] = float(m.group(1)) * units[m.group(2)] if m else None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0, **lat}


async def _stored_pings(db_url: str, tenant_id: uuid.UUID) -> int:
    # n_pings is incremented in the ping's own transaction; stored rows are pruned to the last 100.
    from sqlalchemy import func, select
    from xinex.kit.db import Database
    from xinex.models.heartbeats import Heartbeat

    db = Database(db_url)
    try:
        async with db.session(tenant_id=tenant_id) as s:
            return int((await s.execute(select(func.coalesce(func.sum(Heartbeat.n_pings), 0)))).scalar_one())
    finally:
        await db.dispose()


def ping_throughput(api: str, db_url: str, hello: str, tmp: str) -> dict:
    token, tenant_id = account(api, db_url)
    paths = []
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        for i in range(PING_HEARTBEATS):
            r = c.post("/api/v1/heartbeats", json={"name": f"ping-{i}", "interval": 3600, "grace": 3600})
            r.raise_for_status()
            paths.append(httpx.URL(r.json()["ping_url"]).path)
        assert c.post(paths[0]).text == "OK"  # the root /ping/{uuid} route answers OK
    script = Path(tmp) / "pings.lua"
    script.write_text(LUA % ", ".join(f'"{p}"' for p in paths))
    wrk_script(api, str(script), seconds=2)  # warm-up
    wrk(hello + "/hello", seconds=2)
    return {str(c): _ping_level(api, db_url, hello, tenant_id, str(script), c) for c in PING_CONNECTIONS}


def _ping_level(api: str, db_url: str, hello: str, tenant_id: uuid.UUID, script: str, connections: int) -> dict:
    before = asyncio.run(_stored_pings(db_url, tenant_id))
    pings, hellos = [], []
    for _ in range(ROUNDS):  # interleaved so both see the same machine noise
        pings.append(wrk_script(api, script, connections=connections))
        hellos.append(wrk(hello + "/hello", connections=connections))
    time.sleep(1)  # requests in flight when wrk stopped finish and commit
    stored = asyncio.run(_stored_pings(db_url, tenant_id)) - before
    acked = sum(r["requests"] - r["non_2xx"] for r in pings)
    ping_rps, hello_rps = median([r["rps"] for r in pings]), median([r["rps"] for r in hellos])
    return {"ping_rps": ping_rps, "hello_rps": hello_rps, "ratio": ping_rps / hello_rps,
            "ping_p50_ms": median([r["p50_ms"] for r in pings]), "ping_p99_ms": median([r["p99_ms"] for r in pings]),
            "hello_p99_ms": median([r["p99_ms"] for r in hellos]),
            "non_2xx": sum(r["non_2xx"] for r in pings), "socket_errors": sum(r["socket_errors"] for r in pings),
            "acked": acked, "stored": stored, "rounds": {"ping": pings, "hello": hellos}}


# --- deadline -> state change ----------------------------------------------------------------

async def _watch_lag(db_url: str, tenant_id: uuid.UUID, ids: list[uuid.UUID], deadlines: dict, until: float) -> dict:
    """Poll for the flips every 50 ms (first time each is visible = committed), then read the
    outbox events the sweeper wrote with them."""
    from sqlalchemy import select
    from xinex.kit.db import Database
    from xinex.models.heartbeats import Heartbeat
    from xinex.models.outbox import OutboxEvent

    db = Database(db_url)
    seen: dict[uuid.UUID, datetime] = {}
    try:
        while len(seen) < len(ids) and time.time() < until:
            async with db.session(tenant_id=tenant_id) as s:
                rows = (await s.execute(select(Heartbeat.id).where(Heartbeat.status != "up"))).scalars().all()
            now = datetime.now(UTC)
            for hb_id in rows:
                seen.setdefault(hb_id, now)
            await asyncio.sleep(0.05)
        async with db.session(tenant_id=tenant_id) as s:
            events = (await s.execute(select(OutboxEvent.source_id, OutboxEvent.occurred_at)
                                      .where(OutboxEvent.event_type == "heartbeat.late"))).all()
    finally:
        await db.dispose()
    emitted = {}
    for source_id, at in events:
        emitted.setdefault(source_id, []).append(at if at.tzinfo else at.replace(tzinfo=UTC))
    return {"seen": seen, "emitted": emitted}


def _lag_stats(ids: list[uuid.UUID], deadlines: dict, watched: dict) -> dict:
    event_lag = [(watched["emitted"][i][0] - deadlines[i]).total_seconds() * 1000 for i in ids if i in watched["emitted"]]
    seen_lag = [(watched["seen"][i] - deadlines[i]).total_seconds() * 1000 for i in ids if i in watched["seen"]]
    return {"n": len(ids), "flipped": len(event_lag), "duplicates": sum(len(watched["emitted"].get(i, [])) > 1 for i in ids),
            "event_p50_ms": percentile(event_lag, 50) if event_lag else None,
            "event_p99_ms": percentile(event_lag, 99) if event_lag else None,
            "event_max_ms": max(event_lag) if event_lag else None,
            "seen_p50_ms": percentile(seen_lag, 50) if seen_lag else None,
            "seen_p99_ms": percentile(seen_lag, 99) if seen_lag else None}


def deadline_lag(api: str, db_url: str) -> dict:
    _token, tenant_id = account(api, db_url)
    t0 = datetime.now(UTC) + timedelta(seconds=15)
    far = [t0 + timedelta(days=1)] * (LAG_TOTAL - LAG_SPREAD - LAG_BURST)
    spread = [t0 + timedelta(seconds=LAG_SPREAD_S * i / LAG_SPREAD) for i in range(LAG_SPREAD)]
    burst = [t0 + timedelta(seconds=LAG_SPREAD_S + 3)] * LAG_BURST
    ids = asyncio.run(insert_heartbeats(db_url, tenant_id, spread + burst + far, "lag"))
    deadlines = dict(zip(ids, spread + burst + far, strict=True))
    due = ids[:LAG_SPREAD + LAG_BURST]
    until = (burst[0] + timedelta(seconds=20)).timestamp()
    watched = asyncio.run(_watch_lag(db_url, tenant_id, due, deadlines, until))
    return {"total": LAG_TOTAL, "spread": _lag_stats(due[:LAG_SPREAD], deadlines, watched),
            "burst": _lag_stats(due[LAG_SPREAD:], deadlines, watched)}


def run(pg_url: str, redis_url: str, data_dir: str) -> dict:
    out: dict = {}
    with uvicorn_server("bench.hello:app", {}) as hello:
        for mode in MODES:
            with deployment(mode, pg_url, redis_url, data_dir) as (api, db_url):
                out[mode] = {"pings": ping_throughput(api, db_url, hello, data_dir)}
                out[mode]["lag"] = deadline_lag(api, db_url)
            print(mode, {c: {k: v for k, v in level.items() if k != "rounds"} for c, level in out[mode]["pings"].items()},
                  out[mode]["lag"], flush=True)
    return out


def _ms(v) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def report(res: dict) -> str:
    lines = [
        "## Heartbeats: durable pings/s vs bare hello-world; deadline-to-state-change lag",
        "",
        "Two deployments, each a real uvicorn worker (uvloop, httptools) on 127.0.0.1: **postgresql** is the",
        "production shape (API on PostgreSQL + Redis, a separate `xinex worker` process runs the sweeper);",
        "**embedded** is the default (SQLite + chdb in a temp data dir, no Redis, the sweeper inside the API).",
        "",
        f"**Pings.** wrk (1 thread, {' and '.join(map(str, PING_CONNECTIONS))} connections, 8 s) POSTs `/ping/{{uuid}}` "
        f"rotating over {PING_HEARTBEATS} heartbeats (a Lua script), {ROUNDS} runs interleaved with the bare FastAPI",
        "hello-world at the same connection count; medians. Each ping is acknowledged only after the transaction",
        "holding it commits: pings that arrive while one transaction commits share the next (group commit: one",
        "locking statement for all their heartbeats, the transitions in memory, the heartbeat rows as one",
        "executemany handed to the driver as positional rows, the ping rows as one INSERT … SELECT FROM",
        "unnest(arrays) on PostgreSQL or one such executemany on SQLite). `/ping/…` is answered by an ASGI fast",
        "path inside the contract middlewares (request id, rate limit, idempotency) but outside FastAPI's routing",
        "and dependency machinery. The embedded SQLite runs with synchronous=FULL (each commit is on disk before",
        "its acknowledgement). Afterwards the sum of the heartbeats' committed ping counters is",
        "compared with the 2xx responses wrk counted (stored may exceed acked by the requests still in flight",
        "when wrk stopped — never fall short).",
        "",
        "| deployment | connections | pings/s | p50 ms | p99 ms | hello-world req/s | ratio (target ≥ 0.3) | 2xx acked "
        "| stored | non-2xx / socket errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    levels = [(mode, c, res[mode]["pings"][str(c)]) for mode in MODES for c in PING_CONNECTIONS]
    for mode, c, p in levels:
        lines.append(f"| {mode} | {c} | {p['ping_rps']:.0f} | {p['ping_p50_ms']:.2f} | {p['ping_p99_ms']:.2f} | "
                     f"{p['hello_rps']:.0f} | **{p['ratio']:.2f}** | {p['acked']} | {p['stored']} | "
                     f"{p['non_2xx']} / {p['socket_errors']} |")
    lines.append("")
    for mode, c, p in levels:
        verdicts = []
        if p["ratio"] < 0.3:
            verdicts.append(f"ratio target **missed**: {p['ratio']:.2f} < 0.3")
        else:
            verdicts.append(f"ratio target met: {p['ratio']:.2f} ≥ 0.3")
        if p["ping_rps"] < 5000:
            verdicts.append(f"the 5,000 pings/s aim is not reached: {p['ping_rps']:.0f}/s")
        if p["stored"] < p["acked"]:
            verdicts.append(f"**{p['acked'] - p['stored']} acknowledged pings are not stored**")
        lines.append(f"- {mode}, {c} connections: " + "; ".join(verdicts) + ".")
    lines += [
        "",
        f"**Deadline → state change.** {LAG_TOTAL:,} `up` heartbeats inserted through the ORM into a fresh tenant;",
        f"{LAG_SPREAD:,} have deadlines spread evenly over {LAG_SPREAD_S} s, {LAG_BURST:,} share one deadline "
        "(a burst),",
        "the rest are due tomorrow. Lag = the `heartbeat.late` outbox event's `occurred_at` (the sweeper's",
        "clock, written in the flip's transaction) − the deadline; \"visible\" = the first 50 ms poll of the",
        "database that sees the committed flip − the deadline (an upper bound on commit time).",
        "",
        "| deployment | set | flipped | duplicates | event lag p50 / p99 / max ms | visible p50 / p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        for key in ("spread", "burst"):
            s = res[mode]["lag"][key]
            lines.append(f"| {mode} | {key} ({s['n']:,}) | {s['flipped']:,} | {s['duplicates']} | "
                         f"{_ms(s['event_p50_ms'])} / {_ms(s['event_p99_ms'])} / {_ms(s['event_max_ms'])} | "
                         f"{_ms(s['seen_p50_ms'])} / {_ms(s['seen_p99_ms'])} |")
    lines.append("")
    for mode in MODES:
        for key in ("spread", "burst"):
            s = res[mode]["lag"][key]
            worst = max(v for v in (s["event_p99_ms"], s["seen_p99_ms"]) if v is not None) if s["flipped"] else None
            if worst is None or s["flipped"] < s["n"]:
                lines.append(f"- {mode} {key}: **missed** — only {s['flipped']} of {s['n']} flipped in time.")
            elif worst >= 1000:
                lines.append(f"- {mode} {key}: target p99 < 1 s **missed** ({worst:.0f} ms).")
            else:
                lines.append(f"- {mode} {key}: target p99 < 1 s met ({worst:.0f} ms, the larger of the two p99s).")
    lines.append("")
    return "\n".join(lines)
