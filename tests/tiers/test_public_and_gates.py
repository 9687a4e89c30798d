"""Public tier data, /feature-gates and /feature-flags."""

from __future__ import annotations

from tests.conftest import assert_error
from tests.tiers.helpers import set_tier


async def test_public_tiers_envelope_without_credentials(client):
    r = await client.get("/api/v1/public/tiers")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"items", "total", "page", "per_page", "total_pages"}
    assert [t["tier"] for t in body["items"]] == ["free", "pro", "team", "enterprise"]
    free, enterprise = body["items"][0], body["items"][3]
    assert free["members"] == 3 and free["sso"] is False and free["price_month_usd"] == 0
    assert enterprise["members"] is None and enterprise["sso"] is True
    # Limits grow with the plan.
    for key in ("monitors", "heartbeats", "members", "status_pages"):
        values = [t[key] if t[key] is not None else float("inf") for t in body["items"]]
        assert values == sorted(values), key
    page2 = (await client.get("/api/v1/public/tiers?per_page=2&page=2")).json()
    assert [t["tier"] for t in page2["items"]] == ["team", "enterprise"] and page2["total_pages"] == 2
    assert_error(await client.get("/api/v1/public/tiers?per_page=0"), 422, "VALIDATION_FAILED")


async def test_public_tier_info_and_comparison(client):
    info = (await client.get("/api/v1/public/tier-info")).json()
    assert info["tiers"] == ["free", "pro", "team", "enterprise"]
    assert info["limits"]["pro"]["members"] == 10
    assert info["features"]["sso"] == "enterprise"
    comparison = (await client.get("/api/v1/public/tier-comparison")).json()
    rows = {row["key"]: row for row in comparison["rows"]}
    assert rows["members"]["values"] == {"free": 3, "pro": 10, "team": 50, "enterprise": None}
    assert rows["feature:sso"]["values"] == {"free": False, "pro": False, "team": False, "enterprise": True}
    assert rows["members"]["label"] == "Team members"


async def test_feature_gates_follow_the_callers_tier_only(client, db, alice, outsider):
    r = await client.get("/api/v1/feature-gates", headers=alice.bearer)
    assert r.status_code == 200
    assert r.json()["tier"] == "free" and r.json()["features"]["sso"] is False
    assert r.json()["limits"]["members"] == 3
    await set_tier(db, alice.tenant_id, "enterprise")
    gates = (await client.get("/api/v1/feature-gates", headers=alice.bearer)).json()
    assert gates["tier"] == "enterprise" and gates["features"]["sso"] is True and gates["limits"]["members"] is None
    theirs = (await client.get("/api/v1/feature-gates", headers=outsider.bearer)).json()
    assert theirs["tier"] == "free" and theirs["features"]["sso"] is False
    assert_error(await client.get("/api/v1/feature-gates"), 401, "UNAUTHENTICATED")
    assert_error(await client.get("/api/v1/feature-gates", headers={"Authorization": "Basic abc"}),
                 401, "UNAUTHENTICATED")


async def test_feature_flags(client, db, alice, outsider):
    flags = (await client.get("/api/v1/feature-flags", headers=alice.bearer)).json()["flags"]
    assert flags["oql_editor"] is True and flags["ai_heartbeats"] is False
    await set_tier(db, alice.tenant_id, "pro")
    assert (await client.get("/api/v1/feature-flags", headers=alice.bearer)).json()["flags"]["ai_heartbeats"] is True
    assert (await client.get("/api/v1/feature-flags", headers=outsider.bearer)).json()["flags"]["ai_heartbeats"] is False
    assert_error(await client.get("/api/v1/feature-flags"), 401, "UNAUTHENTICATED")
