"""OTLP ingest honours API-token revocation at once, despite its short credential cache."""

from __future__ import annotations

import pytest
from xinex.telemetry.ingest.receiver import Receiver, Unauthenticated
from xinex.timeseries.store import get_store


async def test_revoked_token_is_refused_on_the_next_batch(client, db, alice):
    created = await client.post("/api/v1/api-tokens", json={"name": "otel", "scopes": ["telemetry:write"]},
                                headers=alice.bearer)
    assert created.status_code == 201
    receiver = Receiver(db, get_store())
    tenant = await receiver.authenticate(created.json()["token"])
    assert str(tenant.tenant_id) == alice.tenant_id
    assert (await client.delete(f"/api/v1/api-tokens/{created.json()['id']}", headers=alice.bearer)).status_code == 204
    with pytest.raises(Unauthenticated):
        await receiver.authenticate(created.json()["token"])
