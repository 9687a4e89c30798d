"""Issue 17's web app budgets: first page interactive < 1 s on localhost; the overview with 1,000 monitored
items < 500 ms; initial JavaScript ≤ 200 KB gzipped (also a test: tests/web/test_budgets.py).

One `xinex run` (embedded default) serves the built app; Debian's Chromium, driven by playwright-core
(frontend/e2e/bench.mjs), loads it. Times are the page's own clock: navigation start → the sign-in form
usable (a fresh browser context each time, so nothing is cached), and navigation start → the
overview drawn for an account with 1,000 heartbeats (all 1,000 items in its table — aria-rowcount — and the
rows in view on screen: the list is virtualised, rows further down are drawn as they scroll in; the bundle
cached, the items with their uptimes and sparklines from one request to GET /api/v1/overview), and the same with the API's recorded answers replayed
from memory, which leaves what the browser spends itself. The first run of each is a warm-up and not counted.

`python -m bench --only webapp`.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import subprocess
import tempfile
from pathlib import Path

import httpx

from bench.harness import ROOT

FRONTEND = ROOT / "frontend"
ITEMS = 1000
RUNS = 5


def initial_js_gzip_bytes() -> int:
    dist = FRONTEND / "dist"
    index = (dist / "index.html").read_text()
    files = set(re.findall(r'(?:src|href)="/(assets/[^"]+\.js)"', index))
    return sum(len(gzip.compress((dist / f).read_bytes(), compresslevel=9)) for f in files)


def run() -> dict:
    from tests.embedded import embedded_server

    assert (FRONTEND / "dist" / "index.html").is_file(), "build the web app first: make install"
    email, password = "bench@example.com", "a long benchmark passphrase"
    with tempfile.TemporaryDirectory(prefix="xinex-bench-web-") as tmp, embedded_server(Path(tmp), XINEX_RATE_LIMIT_DEFAULT="100000/minute") as server:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            # No SMTP in the embedded default: registration signs in at once (201).
            r = client.post("/api/v1/auth/register", json={"email": email, "password": password, "name": "Bench"})
            assert r.status_code == 201, r.text
            # The session cookie is Secure (__Host-): httpx keeps it off plain http, a browser on 127.0.0.1 does not.
            cookie = "; ".join(f"{k}={v}" for k, v in r.cookies.items())
            csrf = {"X-CSRF-Token": r.json()["csrf_token"], "Cookie": cookie}
            client.cookies.clear()
            for i in range(ITEMS):
                made = client.post("/api/v1/heartbeats", json={"name": f"job {i:04d}", "interval": 86400},
                                   headers=csrf)
                assert made.status_code == 201, made.text
        env = {"BASE_URL": server.base, "BENCH_EMAIL": email, "BENCH_PASSWORD": password,
               "BENCH_ROWS": str(ITEMS), "BENCH_RUNS": str(RUNS), "PATH": "/usr/local/bin:/usr/bin:/bin"}
        out = subprocess.run(["node", "e2e/bench.mjs"], cwd=FRONTEND, env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stdout + out.stderr
        result = json.loads(out.stdout.strip().splitlines()[-1])
    result["initial_js_gzip_bytes"] = initial_js_gzip_bytes()
    result["load_average"] = os.getloadavg()[0]
    return result


def report(res: dict) -> str:
    def line(name: str, values: list[float], budget: float) -> str:
        med, worst = statistics.median(values), max(values)
        verdict = "within" if worst < budget else "over"
        return (f"| {name} | {med:.0f} ms | {worst:.0f} ms | < {budget:.0f} ms | {verdict} |")

    kb = res["initial_js_gzip_bytes"] / 1024
    return "\n".join([
        "## Web app (issue 17)",
        "",
        f"`xinex run` serving the built app; Debian's Chromium via playwright-core, {RUNS} runs each; times from",
        f"navigation start, on the page's clock. Load average when measured: {res['load_average']:.1f} on "
        f"{os.cpu_count()} cores (the browser, the server and the load share them).",
        "",
        "| measure | median | worst | budget | |",
        "|---|---|---|---|---|",
        line("first page interactive (sign-in form, empty cache)", res["first_page_ms"], 1000),
        line(f"overview with {res['rows']:,} heartbeats drawn (API answers from the server)",
             res["overview_ms"], 500),
        line("the same, API answers served from memory (the browser's own work)", res["overview_render_ms"], 500),
        f"| initial JavaScript, gzipped | {kb:.0f} KB | | ≤ 200 KB | {'within' if kb <= 200 else 'over'} |",
        "",
    ])


def section() -> str:
    res = run()
    print(res, flush=True)
    return report(res)
