"""Issue 2: authenticated GET /api/v1/me with an API token vs a bare hello-world; login latency."""

from __future__ import annotations

import time

import httpx

from bench.harness import median, percentile, uvicorn_server, wrk

ROUNDS = 3


def run(db_url: str, redis_url: str, data_dir: str) -> dict:
    env = {
        "XINEX_ENV": "development",
        "XINEX_DATABASE_URL": db_url,
        "XINEX_REDIS_URL": redis_url,
        "XINEX_DATA_DIR": data_dir,
        # The limiter still runs on every request (on Redis); the limit is raised so wrk measures
        # the request path rather than 429s.
        "XINEX_RATE_LIMIT_DEFAULT": "100000000/minute",
        "XINEX_RATE_LIMIT_LOGIN_IP": "100000/minute",
        "XINEX_RATE_LIMIT_LOGIN_ACCOUNT": "100000/minute",
        "XINEX_COOKIE_SECURE": "false",
    }
    from xinex.migrate import upgrade

    upgrade(db_url)
    results: dict = {"me": [], "hello": []}
    with uvicorn_server("xinex.app:create_app", env, factory=True) as api, uvicorn_server("bench.hello:app", {}) as hello:
        with httpx.Client(base_url=api) as c:
            email = f"bench-{time.time_ns()}@example.com"
            r = c.post("/api/v1/auth/register", json={"email": email, "password": "bench password 123"})
            r.raise_for_status()
            csrf = r.json()["csrf_token"]
            token = c.post("/api/v1/api-tokens", json={"name": "bench"}, headers={"X-CSRF-Token": csrf}).json()["token"]
            token_id = c.get("/api/v1/api-tokens", headers={"Authorization": f"Bearer {token}"}).json()["items"][0]["id"]
        auth = {"Authorization": f"Bearer {token}"}
        wrk(api + "/api/v1/me", auth, seconds=2)  # warm-up
        wrk(hello + "/hello", seconds=2)
        for _ in range(ROUNDS):  # interleaved so both see the same machine noise
            results["me"].append(wrk(api + "/api/v1/me", auth))
            results["hello"].append(wrk(hello + "/hello"))

        # Login latency with production argon2id parameters (the defaults).
        latencies = []
        with httpx.Client(base_url=api) as c:
            for _ in range(30):
                t0 = time.perf_counter()
                c.post("/api/v1/auth/login", json={"email": email, "password": "bench password 123"}).raise_for_status()
                latencies.append((time.perf_counter() - t0) * 1000)
            # Revocation is immediate: the very next request with the token is refused.
            c.cookies.clear()
            r = c.post("/api/v1/auth/login", json={"email": email, "password": "bench password 123"})
            csrf = r.json()["csrf_token"]
            assert c.delete(f"/api/v1/api-tokens/{token_id}", headers={"X-CSRF-Token": csrf}).status_code == 204
            revoked_status = c.get("/api/v1/me", headers=auth, cookies={}).status_code
    me_rps = median([r["rps"] for r in results["me"]])
    hello_rps = median([r["rps"] for r in results["hello"]])
    return {
        "me_rps": me_rps,
        "hello_rps": hello_rps,
        "ratio": me_rps / hello_rps,
        "me_p50_ms": median([r["p50_ms"] for r in results["me"]]),
        "me_p99_ms": median([r["p99_ms"] for r in results["me"]]),
        "hello_p50_ms": median([r["p50_ms"] for r in results["hello"]]),
        "me_non_2xx": sum(r["non_2xx"] for r in results["me"]),
        "login_p50_ms": median(latencies),
        "login_p99_ms": percentile(latencies, 99),
        "status_after_revoke": revoked_status,
        "rounds": results,
    }


def report(res: dict) -> str:
    return "\n".join([
        "## Identity: authenticated `GET /api/v1/me` vs bare hello-world",
        "",
        "Both served by one uvicorn worker (uvloop, httptools) on 127.0.0.1; wrk, 1 thread, 32 connections,",
        f"8 s per run, {ROUNDS} runs of each interleaved; medians. The whole stack runs on the same 2 cores:",
        "PostgreSQL, Redis, wrk and the server. `/me` passes the full middleware stack (request id, rate limit",
        "on Redis — one round trip —, idempotency, ETag), resolves the API token (SHA-256, then an in-process",
        "cache that every committed credential change clears at once and broadcasts to other replicas over",
        "Redis), and reads the user and their tenants from PostgreSQL in one transaction (with the RLS",
        "setting). Revocation stays immediate: checked below with the very next request.",
        "",
        "| | requests/s | p50 ms | p99 ms |",
        "|---|---|---|---|",
        f"| `GET /api/v1/me` (API token) | {res['me_rps']:.0f} | {res['me_p50_ms']:.2f} | {res['me_p99_ms']:.2f} |",
        f"| bare FastAPI hello-world | {res['hello_rps']:.0f} | {res['hello_p50_ms']:.2f} | |",
        "",
        f"**Ratio: {res['ratio']:.2f}** of hello-world (target ≥ 0.5): **missed**. Non-2xx during the `/me` runs: {res['me_non_2xx']}.",
        "Why: a sequential in-process profile puts `/me` at about 2.5 ms of Python per request (SQLAlchemy",
        "ORM statement building and result loading, FastAPI dependency resolution and routing, asyncpg and",
        "Redis round trips) against about 0.1 ms for hello-world; the credential cache removed the token",
        "lookup, the remaining cost is the endpoint's own two queries and the framework.",
        f"After `DELETE /api/v1/api-tokens/{{id}}` the very next request answered **{res['status_after_revoke']}**.",
        "",
        f"Password login (argon2id, production parameters t=3, m=64 MiB): p50 **{res['login_p50_ms']:.0f} ms**, "
        f"p99 {res['login_p99_ms']:.0f} ms over 30 sequential logins.",
        "",
    ])
