"""The job-run dialect on the embedded default (`xinex run`: SQLite, in-process jobs) under concurrent first
pings by name: every one is stored (200) and each name makes one job, while other writes run alongside."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.embedded import embedded_server


async def test_concurrent_first_pings_by_name_all_succeed_on_sqlite(tmp_path):
    with embedded_server(tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base, timeout=60) as c:
            email, password = f"c-{uuid.uuid4().hex[:8]}@example.com", "concurrent pings passphrase"
            assert (await c.post("/api/v1/auth/register", json={"email": email, "password": password})).status_code == 201
            login = await c.post("/api/v1/auth/login", json={"email": email, "password": password})
            browser = {"Cookie": "; ".join(f"{k}={v}" for k, v in login.cookies.items()),
                       "X-CSRF-Token": login.json()["csrf_token"]}
            token = (await c.post("/api/v1/api-tokens", json={"name": "jobs"}, headers=browser)).json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}

            async def other_write(i: int) -> httpx.Response:
                return await c.post("/api/v1/maintenance-windows", headers=bearer, json={
                    "name": f"w{i}", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"})

            names: set[str] = set()
            for round_no in range(3):
                # Six new names, each pinged twice at once through a different endpoint, plus other writes.
                batch = [f"job-{round_no}-{i}-{uuid.uuid4().hex[:6]}" for i in range(6)]
                names.update(batch)
                calls = [c.post(f"/api/v1/heartbeat/{path}", headers=bearer, json={"name": name, "message": "x"})
                         for name in batch for path in ("ping", "start", "log", "end")[round_no:round_no + 2]]
                calls += [other_write(round_no * 10 + i) for i in range(3)]
                answers = await asyncio.gather(*calls)
                assert [(r.status_code, r.text[:200]) for r in answers if r.status_code not in (200, 201)] == []

            listing = (await c.get("/api/v1/heartbeats", headers=bearer, params={"limit": 200})).json()
            items = listing["items"] if isinstance(listing, dict) else listing
            counts = {n: sum(1 for hb in items if hb["name"] == n) for n in names}
            assert counts == dict.fromkeys(names, 1)
        # No unit of work waited out the write gate (one that holds it awaiting another that needs it).
        assert "going ahead ungated" not in server.log()
