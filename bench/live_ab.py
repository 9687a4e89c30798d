"""A/B of the ping path with and without a change (issue 17: live heartbeat pings on the WebSocket feed).

    python -m bench.live_ab --base REV [--rounds N] [--seconds S] [--connections C]

Two API processes on PostgreSQL + Redis — A runs the code at REV (a throwaway `git worktree`), B the
working tree — each with one WebSocket client subscribed to the pinging tenant (a browser on the
overview). wrk sends POST /ping/<uuid> over 200 heartbeats to A and B in alternating order, ROUNDS
rounds each; medians of requests/s and p99 side by side, the ratio B/A, and the events B's client
received. Not part of `make bench`: it compares two versions of code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.harness import ROOT, uvicorn_server
from bench.heartbeats import LUA, PING_HEARTBEATS, account, base_env, wrk_script


def _feed(api: str, token: str, counts: dict[str, int], stop: threading.Event) -> threading.Thread:
    """A WebSocket client of the tenant's feed, counting events by type until `stop`."""
    from websockets.sync.client import connect

    ws_url = api.replace("http://", "ws://") + f"/api/v1/ws?token={token}"

    def run() -> None:
        with connect(ws_url) as ws:
            while not stop.is_set():
                try:
                    event = json.loads(ws.recv(timeout=0.5))
                except TimeoutError:
                    continue
                counts[event.get("type", "?")] = counts.get(event.get("type", "?"), 0) + 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def _side(code_root: Path, pg_url: str, redis_url: str, tmp: str, name: str):
    env = base_env(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp))
    env.update(XINEX_DATABASE_URL=pg_url, XINEX_REDIS_URL=redis_url,
               PYTHONPATH=f"{code_root / 'backend'}:{code_root}")
    subprocess.run([str(Path(os.sys.executable)), "-c", "from xinex.migrate import upgrade; import sys; upgrade(sys.argv[1])",
                    pg_url], env={**os.environ, **env}, cwd=code_root, check=True)
    with uvicorn_server("xinex.app:create_app", env, factory=True) as api:
        token, _ = account(api, pg_url)
        paths = []
        with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            for i in range(PING_HEARTBEATS):
                r = c.post("/api/v1/heartbeats", json={"name": f"ping-{i}", "interval": 3600, "grace": 3600})
                r.raise_for_status()
                paths.append(httpx.URL(r.json()["ping_url"]).path)
        script = Path(tmp) / f"{name}.lua"
        script.write_text(LUA % ", ".join(f'"{p}"' for p in paths))
        counts: dict[str, int] = {}
        stop = threading.Event()
        thread = _feed(api, token, counts, stop)
        try:
            yield api, str(script), counts
        finally:
            stop.set()
            thread.join(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live_ab")
    parser.add_argument("--base", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=128)
    args = parser.parse_args(argv)
    from tests import _services

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="xinex-live-ab-"))
        base = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base], cwd=ROOT, check=True,
                       capture_output=True)
        stack.callback(subprocess.run, ["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                       capture_output=True)
        pg = stack.enter_context(_services.postgres())
        redis_url = stack.enter_context(_services.redis_server())
        a_api, a_script, a_events = stack.enter_context(_side(base, pg.app_url, redis_url, tmp, "a"))
        b_api, b_script, b_events = stack.enter_context(_side(ROOT, pg.app_url, redis_url, tmp, "b"))
        for api, script in ((a_api, a_script), (b_api, b_script)):
            wrk_script(api, script, seconds=2, connections=args.connections)  # warm-up
        a, b = [], []
        for n in range(args.rounds):  # alternating which goes first: both see the same machine noise
            order = [(a_api, a_script, a), (b_api, b_script, b)]
            for api, script, out in (order if n % 2 == 0 else order[::-1]):
                out.append(wrk_script(api, script, seconds=args.seconds, connections=args.connections))
        time.sleep(1)
    med = {k: (statistics.median(r[k] for r in a), statistics.median(r[k] for r in b)) for k in ("rps", "p50_ms", "p99_ms")}
    print(json.dumps({"base": args.base, "rounds": args.rounds, "seconds": args.seconds,
                      "connections": args.connections, "load_average": os.getloadavg()[0],
                      "a_rps": [r["rps"] for r in a], "b_rps": [r["rps"] for r in b],
                      "median": med, "ratio_rps": med["rps"][1] / med["rps"][0],
                      "non_2xx": [sum(r["non_2xx"] for r in a), sum(r["non_2xx"] for r in b)],
                      "feed_events": {"a": a_events, "b": b_events}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
