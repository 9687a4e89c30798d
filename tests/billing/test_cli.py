"""The operator commands as an operator runs them: `xinex tenants set-tier` and `xinex billing sync-prices`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.billing.conftest import SECRET_KEY

XINEX = str(Path(sys.executable).with_name("xinex"))


async def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(XINEX, *args, env={**os.environ, **(env or {})},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_set_tier_command(client, alice):
    code, out, err = await _run("tenants", "set-tier", alice.tenant_id, "team")
    assert code == 0, err
    assert json.loads(out) == {"tenant_id": alice.tenant_id, "from": "free", "to": "team", "changed": True}
    assert (await client.get("/api/v1/feature-gates", headers=alice.bearer)).json()["tier"] == "team"
    code, out, err = await _run("tenants", "set-tier", "no-such-tenant", "pro")
    assert code == 1 and "NOT_FOUND" in err


async def test_sync_prices_command(fake_stripe, billing):
    env = {"XINEX_STRIPE_SECRET_KEY": SECRET_KEY, "XINEX_STRIPE_API_BASE": fake_stripe.url}
    code, out, err = await _run("billing", "sync-prices", env=env)
    assert code == 0, err
    assert {r["action"] for r in json.loads(out)} == {"unchanged"}
    code, out, err = await _run("billing", "sync-prices", env={"XINEX_STRIPE_SECRET_KEY": ""})
    assert code == 1 and "BILLING_NOT_CONFIGURED" in err
