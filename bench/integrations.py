"""Issue 20: inbound events per second on the PagerDuty Events API v2-compatible endpoint (durable: each
202 is answered after the event's outbox row committed; with dedup: the load cycles over a fixed set of
dedup keys, so almost every event appends to an open incident), and event → page latency at that load.

Same two deployments as bench/heartbeats.py: "postgresql" (API + Redis + `xinex worker`) and "embedded".
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time

import httpx

from bench.harness import percentile
from bench.heartbeats import MODES, account, deployment
from bench.incidents import Receiver

KEYS = 200  # dedup keys the load cycles over
SECONDS = 10
CONNECTIONS = 32
PROBES = 40  # new incidents (own dedup keys) sent during the load, each routed to the webhook receiver

LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"routing_key":"%(key)s","event_action":"trigger","dedup_key":"load-' .. (counter %% %(keys)d) ..
    '","payload":{"summary":"load ' .. (counter %% %(keys)d) .. '","source":"bench","severity":"warning"}}'
  return wrk.format("POST", "/v2/enqueue", {["Content-Type"] = "application/json"}, body)
end
"""


def _wire(api: str, token: str, hook_url: str) -> tuple[str, str]:
    """A load integration (routed nowhere special) and a probe integration whose incidents page the hook."""
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        load = c.post("/api/v1/integrations", json={"name": "load", "kind": "pagerduty",
                                                    "rate_limit_per_minute": 100_000}).json()
        probe = c.post("/api/v1/integrations", json={"name": "probe", "kind": "pagerduty"}).json()
        ch = c.post("/api/v1/notification-channels", json={"name": "hook", "kind": "webhook",
                                                           "config": {"url": hook_url}}).json()
        policy = c.post("/api/v1/escalation-policies", json={"name": "probe", "steps": [
            {"delay_minutes": 0, "targets": [{"type": "channel", "id": ch["id"]}]}]}).json()
        c.post("/api/v1/alert-routing-rules", json={"name": "probe", "source_type": "integration",
                                                    "source_ids": [probe["id"]],
                                                    "escalation_policy_id": policy["id"]}).raise_for_status()
        # The load's own incidents page nobody (a disabled channel): only the engine's work is measured.
        quiet = c.post("/api/v1/notification-channels", json={"name": "quiet", "kind": "webhook", "enabled": False,
                                                              "config": {"url": hook_url}}).json()
        c.post("/api/v1/alert-routing-rules", json={"name": "load", "source_type": "integration",
                                                    "source_ids": [load["id"]],
                                                    "channel_ids": [quiet["id"]]}).raise_for_status()
    return load["key"], probe["key"]


def _probes(api: str, key: str, sent: dict[str, float], stop: threading.Event) -> None:
    with httpx.Client(base_url=api, timeout=30) as c:
        for i in range(PROBES):
            if stop.is_set():
                return
            dedup = f"probe-{i:03d}-{time.time_ns()}"
            sent[dedup] = time.time()
            c.post("/v2/enqueue", json={"routing_key": key, "event_action": "trigger", "dedup_key": dedup,
                                        "payload": {"summary": f"probe {dedup}", "source": f"probe-host-{i}",
                                                    "severity": "critical"}}).raise_for_status()
            time.sleep(SECONDS / PROBES * 0.9)


def _warm_up(api: str, token: str, load_key: str) -> float:
    """One trigger per load dedup key, then wait until their incidents are open: the measured load is
    the steady state the section describes (every event appends to an open incident), not the one-off
    opening of 200 incidents, which the probes would otherwise queue behind. Returns the seconds taken."""
    started = time.time()
    with httpx.Client(base_url=api, timeout=30) as c:
        for k in range(KEYS):
            c.post("/v2/enqueue", json={"routing_key": load_key, "event_action": "trigger", "dedup_key": f"load-{k}",
                                        "payload": {"summary": f"load {k}", "source": "bench", "severity": "warning"}}
                   ).raise_for_status()
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        while time.time() - started < 300:
            page = c.get("/api/v1/incidents", params={"per_page": 1, "status": "triggered"}).json()
            if page.get("total", 0) >= KEYS:
                break
            time.sleep(0.5)
    return time.time() - started


def measure(api: str, db_url: str) -> dict:
    token, _ = account(api, db_url)
    receiver = Receiver()
    try:
        load_key, probe_key = _wire(api, token, receiver.url)
        warm_up_s = _warm_up(api, token, load_key)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(LUA % {"key": load_key, "keys": KEYS})
            script = f.name
        sent: dict[str, float] = {}
        stop = threading.Event()
        prober = threading.Thread(target=_probes, args=(api, probe_key, sent, stop))
        prober.start()
        try:
            out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", script,
                                  api + "/v2/enqueue"], capture_output=True, text=True, check=True).stdout
        finally:
            stop.set()
            prober.join()
            os.unlink(script)
        load = wrk_summary(out)
        deadline = time.time() + 120
        while time.time() < deadline and len(_arrived(receiver, sent)) < len(sent):
            time.sleep(0.2)
        arrived = _arrived(receiver, sent)
        lat = [(arrived[k] - sent[k]) * 1000 for k in arrived]
        return {**load, "load_average": os.getloadavg()[0], "warm_up_s": warm_up_s, "probes": len(sent),
                "paged": len(arrived),
                "page_p50_ms": percentile(lat, 50) if lat else None, "page_p99_ms": percentile(lat, 99) if lat else None}
    finally:
        receiver.close()


def wrk_summary(out: str) -> dict:
    import re

    from bench.harness import _UNITS

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        lat[f"p{pct}_ms"] = float(m.group(1)) * _UNITS[m.group(2)] if m else None
    return {"rps": rps, "non_2xx": int(non2xx.group(1)) if non2xx else 0, **lat}


def _arrived(receiver: Receiver, sent: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for at, body in receiver.arrivals:
        if body.get("event") != "incident.triggered":
            continue
        for key in sent:
            if key in str(body.get("title", "")):
                out.setdefault(key, at)
    return out


def run(pg_url: str, redis_url: str, data_dir: str) -> dict:
    out: dict = {}
    for mode in MODES:
        with deployment(mode, pg_url, redis_url, data_dir) as (api, db_url):
            out[mode] = measure(api, db_url)
        print(mode, json.dumps(out[mode]), flush=True)
    return out


def _ms(v) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def report(res: dict) -> str:
    lines = [
        "## Integrations: inbound events per second (Events API v2), event → page latency at that load",
        "",
        f"`wrk` ({CONNECTIONS} connections, {SECONDS} s) POSTs PagerDuty Events API v2 triggers to `/v2/enqueue`,",
        f"cycling over {KEYS} dedup keys whose incidents a warm-up opened first (one trigger each, then wait until",
        "all are open), so every event appends to an open incident: dedup. Each 202 is answered after the",
        "event's outbox row committed (durable). Meanwhile",
        f"{PROBES} probe triggers with new dedup keys go to a second integration whose routing rule pages a",
        "webhook channel → a real HTTP server on 127.0.0.1; page latency = arrival − send time.",
        "Goal (issue 20): ≥ 2,000 events/s and page p99 < 1 s on 2 cores.",
        "",
        "| deployment | events/s | non-2xx | 202 p50 ms | 202 p99 ms | probes paged | page p50 ms | page p99 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        r = res[mode]
        lines.append(f"| {mode} | {r['rps']:,.0f} | {r['non_2xx']} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | "
                     f"{r['paged']}/{r['probes']} | {_ms(r['page_p50_ms'])} | {_ms(r['page_p99_ms'])} |")
    lines.append("")
    for mode in MODES:
        r = res[mode]
        rate = "met" if r["rps"] >= 2000 else "**missed**"
        page = ("met" if r["page_p99_ms"] is not None and r["page_p99_ms"] < 1000 and r["paged"] == r["probes"]
                else "**missed**")
        lines.append(f"- {mode}: 2,000 events/s {rate} ({r['rps']:,.0f}); page p99 < 1 s {page} "
                     f"({_ms(r['page_p99_ms'])} ms, {r['paged']}/{r['probes']} paged); the machine's 1-minute load "
                     f"average after the load: {r.get('load_average', float('nan')):.1f}.")
    lines.append("")
    return "\n".join(lines)
