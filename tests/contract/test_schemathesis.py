"""Schemathesis over our own OpenAPI document, against a real `xinex api` on PostgreSQL: requests generated from
the schema (valid and invalid) must never get a server error, and every answer must match the schema the
operation documents (status, content type, body). Bounded: a few examples per operation, a fixed seed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.resilience.processes import child_env, fresh_database, start_api

MAX_EXAMPLES = 4
SEED = 20261204


async def _token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        email, password = f"st-{uuid.uuid4().hex[:8]}@example.com", "schemathesis account passphrase"
        assert (await c.post("/api/v1/auth/register", json={"email": email, "password": password})).status_code == 201
        login = await c.post("/api/v1/auth/login", json={"email": email, "password": password})
        browser = {"Cookie": "; ".join(f"{k}={v}" for k, v in login.cookies.items()),
                   "X-CSRF-Token": login.json()["csrf_token"]}
        r = await c.post("/api/v1/api-tokens", json={"name": "schemathesis", "scopes": ["*:write"]}, headers=browser)
        assert r.status_code == 201, r.text
        return r.json()["token"]


async def test_generated_requests_get_no_server_error_and_conform_to_the_schema(tmp_path):
    async with fresh_database() as url:
        # Limits that would turn fuzzing into 429s are lifted; the subject here is the contract.
        # No SMTP: registration then signs in at once (with mail it confirms by link first: docs/security.md).
        env = child_env(tmp_path, database_url=url, redis_url="", smtp_url="", rate_limit_default="1000000/minute",
                        ping_rate_limit_per_minute="0", default_tier="enterprise")
        api, base = await start_api(env, tmp_path)
        try:
            token = await _token(base)
            st = Path(sys.executable).with_name("st")
            run = subprocess.run(
                [str(st), "run", f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}",
                 "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
                 "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
                 "--request-timeout", "30", "--phases", "examples,fuzzing", "--generation-allow-x00", "true"],
                capture_output=True, text=True, timeout=900, env={**env, "NO_COLOR": "1"},
                cwd=tmp_path)  # its example cache (.schemathesis/) stays out of the repository
            server_log = api.output()
        finally:
            api.stop()
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:] + "\n--- server ---\n" + server_log[-5000:]
    assert "generated" in run.stdout
