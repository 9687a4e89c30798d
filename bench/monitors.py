"""Issue 3: 10,000 HTTP monitors at 60 s against a local target — schedule lag p50/p99.

One real xinex API process (uvicorn, `xinex.app:create_app`) on PostgreSQL with the embedded job
runner (no Redis), so the scheduler loop and the `run_checks` jobs run inside that process, as in
a single-node deployment. The target is a separate process: a minimal asyncio HTTP server on
127.0.0.1 answering 200 and recording, per request, the monitor id (in the URL path) and the wall
clock arrival time.

Lag of one check = its arrival at the target − the `next_check_at` it was claimed at. The claim
moves `next_check_at` to claim time + interval + jitter, so due times are not first + k·60 s; the
bench reads every value `next_check_at` takes by polling the monitors table (each value lives
~60 s, the poll runs every 2 s) and matches each arrival to the latest due time at or before it.
A due time that never got its check counts as an infinitely late check.

`python -m bench --only monitors`; `python -m bench.monitors target PORT FILE` is the target.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import PYTHON, ROOT, free_port, percentile, uvicorn_server

MONITORS = 10_000
INTERVAL_S = 60
RUN_S = 180  # due times within [t0, t0 + RUN_S) are measured
GRACE_S = 20  # after the window, checks due in it may still arrive
WARMUP_S = 60  # the first cycle (cold caches, first chdb insert) is reported apart
POLL_S = 2.0
TARGET_P99_S = 1.0


# --- the local target (a separate process) --------------------------------------------------

async def _serve_target(port: int, out: Path) -> None:
    records: list[str] = []
    stop = asyncio.Event()
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            arrived = time.time()  # the request is complete: the check has reached its target
            path = head.split(b" ", 2)[1].decode()
            records.append(f"{path.rsplit('/', 1)[-1]},{arrived:.6f}\n")
            writer.write(reply)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def flush() -> None:
        with out.open("a") as f:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                batch, records[:] = records[:], []
                f.writelines(batch)
                f.flush()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await flush()


def _target_main(argv: list[str]) -> None:
    import uvloop

    uvloop.run(_serve_target(int(argv[0]), Path(argv[1])))


@contextlib.contextmanager
def target_server(out: Path):
    port = free_port()
    proc = subprocess.Popen([PYTHON, "-m", "bench.monitors", "target", str(port), str(out)], cwd=ROOT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the monitor target did not start")
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def read_arrivals(path: Path) -> list[tuple[uuid.UUID, float]]:
    out = []
    for line in path.read_text().splitlines():
        mid, at = line.split(",")
        with contextlib.suppress(ValueError):  # the startup probe connection has no monitor id
            out.append((uuid.UUID(mid), float(at)))
    return out


# --- setup -----------------------------------------------------------------------------------

async def insert_monitors(db_url: str, tenant_id: uuid.UUID, target_port: int, t0: datetime) -> dict:
    """Bulk-insert MONITORS http monitors, bodies validated like the API does, first due times
    spread uniformly over [t0, t0 + INTERVAL_S)."""
    from xinex.kit.db import Database
    from xinex.models.monitors import Monitor
    from xinex.monitors.schemas import COMMON_FIELDS
    from xinex.monitors.service import parse

    db = Database(db_url)
    first_due: dict[uuid.UUID, datetime] = {}
    try:
        for start in range(0, MONITORS, 1000):
            async with db.session(tenant_id=tenant_id) as s:
                for i in range(start, min(MONITORS, start + 1000)):
                    mid = uuid.uuid4()
                    data = parse({"type": "http", "name": f"bench-{i:05d}", "interval": INTERVAL_S, "timeout": 10,
                                  "url": f"http://127.0.0.1:{target_port}/m/{mid}"})
                    due = t0 + timedelta(seconds=random.uniform(0, INTERVAL_S))
                    s.add(Monitor(id=mid, tenant_id=tenant_id, name=data.name, type="http", interval_s=INTERVAL_S,
                                  timeout_s=data.timeout,
                                  config={k: v for k, v in data.model_dump().items() if k not in COMMON_FIELDS},
                                  next_check_at=due))
                    first_due[mid] = due
    finally:
        await db.dispose()
    return first_due


# --- observation -----------------------------------------------------------------------------

async def client_cost(target_port: int, n: int = 100) -> dict:
    """CPU per request of the platform's outbound client (what every HTTP check pays), measured in
    this process against the same target before the run: a ceiling on checks/s per core."""
    from xinex.kit import outbound

    url = f"http://127.0.0.1:{target_port}/probe"
    await outbound.request("GET", url, allow_private=True)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await outbound.request("GET", url, allow_private=True)
    return {"cpu_ms": (time.process_time() - cpu) / n * 1000, "wall_ms": (time.perf_counter() - wall) / n * 1000}


def _server_pid(port: int) -> int | None:
    """The uvicorn process serving `port` (for its CPU time)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if b"xinex.app:create_app" in args and str(port).encode() in args:
                return int(entry.name)
    return None


def _cpu_s(pid: int | None) -> float:
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def watch_dues(db_url: str, tenant_id: uuid.UUID, dues: dict[uuid.UUID, set[float]], until: float) -> dict:
    """Record every next_check_at value of the tenant's monitors until `until`; then their state."""
    from sqlalchemy import func, select
    from xinex.kit.db import Database
    from xinex.models.monitors import Monitor

    db = Database(db_url)
    polls = 0
    try:
        while time.time() < until:
            started = time.time()
            async with db.session(tenant_id=tenant_id) as s:
                rows = (await s.execute(select(Monitor.id, Monitor.next_check_at))).all()
            for mid, due in rows:
                if due is not None:
                    dues.setdefault(mid, set()).add(due.timestamp())
            polls += 1
            await asyncio.sleep(max(0.0, POLL_S - (time.time() - started)))
        async with db.session(tenant_id=tenant_id) as s:
            statuses = dict((await s.execute(select(Monitor.status, func.count()).group_by(Monitor.status))).all())
    finally:
        await db.dispose()
    return {"polls": polls, "statuses": statuses}


def lag_stats(dues: dict[uuid.UUID, set[float]], arrivals: list[tuple[uuid.UUID, float]], lo: float, hi: float,
              measured_until: float) -> dict:
    """Match arrivals to due times; lag of every due time in [lo, hi) (missing checks = inf)."""
    sorted_dues = {m: sorted(v) for m, v in dues.items()}
    first_arrival: dict[tuple[uuid.UUID, float], float] = {}
    extra = 0
    for mid, at in sorted(arrivals, key=lambda a: a[1]):
        seq = sorted_dues.get(mid, [])
        k = bisect.bisect_right(seq, at + 1e-3) - 1  # 1 ms: timestamps of two processes, one clock
        if k < 0:
            extra += 1
            continue
        key = (mid, seq[k])
        if key in first_arrival:
            extra += 1  # a second request for the same due time (a job retried, or a duplicate claim)
        else:
            first_arrival[key] = at
    lags = []
    missing = 0
    for mid, seq in sorted_dues.items():
        for d in seq:
            if lo <= d < hi:
                at = first_arrival.get((mid, d))
                if at is None:
                    missing += 1
                    lags.append(float("inf"))
                else:
                    lags.append(max(0.0, at - d))
    finite = [x for x in lags if x != float("inf")]
    n = len(lags)
    return {"checks_due": n, "checked": len(finite), "missing": missing, "duplicates_or_unmatched": extra,
            "p50_s": percentile(lags, 50) if n else None, "p99_s": percentile(lags, 99) if n else None,
            "max_s": max(finite) if finite else None,
            "under_1s_pct": 100 * sum(x < 1.0 for x in lags) / n if n else None,
            "ran_p50_s": percentile(finite, 50) if finite else None,
            "ran_p99_s": percentile(finite, 99) if finite else None,
            "grace_s": measured_until - hi}


def _intervals(dues: dict[uuid.UUID, set[float]], lo: float, hi: float) -> float | None:
    """Mean spacing between consecutive due times of a monitor (60 s + jitter + claim lag)."""
    gaps = []
    for seq in dues.values():
        s = sorted(d for d in seq if lo <= d < hi)
        gaps += [b - a for a, b in zip(s, s[1:], strict=False)]
    return sum(gaps) / len(gaps) if gaps else None


# --- the section -----------------------------------------------------------------------------

def run(db_url: str, data_dir: str) -> dict:
    from xinex.migrate import upgrade

    from bench.heartbeats import account, base_env

    env = {**base_env(data_dir), "XINEX_DATABASE_URL": db_url, "XINEX_REDIS_URL": ""}
    upgrade(db_url)
    hits = Path(data_dir) / "arrivals.csv"
    with target_server(hits) as target_port, uvicorn_server("xinex.app:create_app", env, factory=True) as api:
        client = asyncio.run(client_cost(target_port))
        _token, tenant_id = account(api, db_url)
        setup_started = time.time()
        t0 = datetime.now(UTC) + timedelta(seconds=20)  # the bulk insert takes a few seconds
        first_due = asyncio.run(insert_monitors(db_url, tenant_id, target_port, t0))
        inserted_in = time.time() - setup_started
        if datetime.now(UTC) >= t0:
            raise RuntimeError(f"inserting {MONITORS} monitors took {inserted_in:.0f} s, past the first due time")
        dues = {m: {d.timestamp()} for m, d in first_due.items()}
        start = t0.timestamp()
        pid = _server_pid(int(api.rsplit(":", 1)[1]))
        cpu_before, wall_before = _cpu_s(pid), time.time()
        until = start + RUN_S + GRACE_S
        watched = asyncio.run(watch_dues(db_url, tenant_id, dues, until))
        cpu = (_cpu_s(pid) - cpu_before) / (time.time() - wall_before)
    arrivals = read_arrivals(hits)
    in_window = [a for a in arrivals if start <= a[1] < start + RUN_S]
    steady_lo = start + WARMUP_S
    res = {
        "monitors": MONITORS, "interval_s": INTERVAL_S, "run_s": RUN_S, "insert_s": inserted_in,
        "all": lag_stats(dues, arrivals, start, start + RUN_S, until),
        "steady": lag_stats(dues, arrivals, steady_lo, start + RUN_S, until),
        "first_cycle": lag_stats(dues, arrivals, start, steady_lo, until),
        "checks_per_s": len(in_window) / RUN_S,
        "checks_per_s_steady": sum(a[1] >= steady_lo for a in in_window) / (RUN_S - WARMUP_S),
        "expected_per_s": MONITORS / INTERVAL_S,
        "mean_spacing_s": _intervals(dues, start, start + RUN_S + GRACE_S),
        "server_cpu_cores": cpu, "client_cpu_ms": client["cpu_ms"], "client_wall_ms": client["wall_ms"],
        "polls": watched["polls"], "statuses": watched["statuses"],
    }
    return res


def _s(v: float | None) -> str:
    if v is None:
        return "n/a"
    return "∞" if v == float("inf") else f"{v:.3f}"


def report(res: dict) -> str:
    from bench.__main__ import machine

    steady = res["steady"]
    met = steady["p99_s"] is not None and steady["p99_s"] < TARGET_P99_S
    if met:
        verdict = f"**Target met**: p99 {_s(steady['p99_s'])} s < {TARGET_P99_S:g} s."
    elif steady["p99_s"] == float("inf"):
        verdict = (f"**Target missed** (p99 < {TARGET_P99_S:g} s): more than 1 % of the checks due in minutes 2–3 "
                   f"had not run {GRACE_S} s after the window, so p99 lag is unbounded"
                   + ("; every check that ran was due in the first minute and had waited in the backlog."
                      if steady["checked"] == 0 else "."))
    else:
        verdict = f"**Target missed**: p99 {_s(steady['p99_s'])} s, the target is < {TARGET_P99_S:g} s."
    lines = [
        f"## Monitors: {res['monitors']:,} HTTP monitors at {res['interval_s']} s — schedule lag",
        "",
        f"Machine: {machine()} (shared with other sessions).",
        "",
        "One xinex API process (uvicorn, uvloop) on PostgreSQL with the embedded job runner (no Redis): the",
        "scheduler loop claims due monitors (`FOR UPDATE SKIP LOCKED`) and the `run_checks` jobs run the HTTP",
        "checks in that same process through the SSRF-safe client (private targets allowed), then record",
        "state in PostgreSQL and the result in the embedded chdb store. The target is a separate asyncio",
        "process on 127.0.0.1 answering 200 and logging each request's arrival time and monitor id (in the",
        "URL path). One enterprise tenant; the monitors are bulk-inserted through the models with the first",
        f"due times uniform over one minute, then the system runs for {res['run_s']} s (+ a grace period for",
        "checks due near the end). **Lag = arrival at the target − the `next_check_at` the check was claimed",
        f"at**; the bench records every `next_check_at` value by polling the table every {POLL_S:g} s (each value",
        "lives about a minute). A due time whose check never arrived counts as infinitely late.",
        "",
        "| due times in | checks due | checked | missing | p50 lag s | p99 lag s | < 1 s | checked only: p50 / p99 / max s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in (("first_cycle", "first minute (cold start)"), ("steady", "minutes 2–3 (steady)"),
                       ("all", f"all {res['run_s']} s")):
        r = res[key]
        lines.append(f"| {label} | {r['checks_due']:,} | {r['checked']:,} | {r['missing']:,} | {_s(r['p50_s'])} | "
                     f"{_s(r['p99_s'])} | {r['under_1s_pct']:.1f}% | {_s(r['ran_p50_s'])} / {_s(r['ran_p99_s'])} / "
                     f"{_s(r['max_s'])} |")
    spacing = res["mean_spacing_s"]
    lines += [
        "",
        verdict,
        "",
        f"Throughput: **{res['checks_per_s_steady']:.0f} checks/s** in minutes 2–3 "
        f"({res['checks_per_s']:.0f}/s over all {res['run_s']} s) vs {res['expected_per_s']:.0f}/s expected "
        f"({res['monitors']:,} / {res['interval_s']} s). The next due time is set from the claim time plus the",
        "interval plus jitter (up to 5 % of it, at most 5 s), so even an on-time scheduler runs each monitor a",
        f"little less often than every {res['interval_s']} s: the mean spacing of consecutive due times was "
        f"{'n/a' if spacing is None else f'{spacing:.2f} s'} (this includes the claim lag).",
        f"API process CPU during the run: {res['server_cpu_cores']:.2f} cores (one process: Python runs on one core).",
        f"The outbound client alone costs **{res['client_cpu_ms']:.1f} ms CPU per request** "
        f"({res['client_wall_ms']:.1f} ms wall; 100 sequential `xinex.kit.outbound.request` calls to the same",
        f"target from the bench process before the run), i.e. at most ~{1000 / res['client_cpu_ms']:.0f} checks/s per core "
        f"before the database and store work of each check. Most of it is TLS set-up paid even for `http://`:",
        "`VettedTransport` builds a fresh `ssl.SSLContext` with the CA bundle twice per request (its own and",
        "`httpx.AsyncHTTPTransport.__init__`'s); with one shared context a request costs about 2 ms.",
        f"Requests for a due time already served, or matching none: {res['all']['duplicates_or_unmatched']}. "
        f"Monitor statuses at the end: {', '.join(f'{k} {v:,}' for k, v in sorted(res['statuses'].items()))}.",
        "",
    ]
    return "\n".join(lines)


def section() -> str:
    """Run on a provisioned PostgreSQL (tests/_services.py) in a temp data dir."""
    from tests import _services

    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(_services.postgres())
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="xinex-bench-"))
        res = run(pg.app_url, data_dir)
        print(res, flush=True)
        return report(res)


if __name__ == "__main__":
    if sys.argv[1:2] == ["target"]:
        _target_main(sys.argv[2:])
    else:
        sys.path.insert(0, str(ROOT))
        print(section())
