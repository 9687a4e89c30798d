"""Every feature the catalog sells above free is refused on free where it applies (FEATURE_NOT_IN_TIER),
and the public comparison lists only features that exist."""

from __future__ import annotations

from tests.conftest import assert_error


async def test_paid_features_are_refused_on_free(client, alice):
    from xinex.models.tenant import Tier
    from xinex.tiers.catalog import FEATURES

    attempts = {
        "sso": ("GET", "/api/v1/sso/config", None),
        "ai_heartbeats": ("POST", "/api/v1/ai-heartbeats", {"name": "agent", "interval": 3600}),
        "multi_region_probes": ("POST", "/api/v1/monitors", {"name": "x", "type": "tcp", "host": "127.0.0.1",
                                                             "port": 22, "regions": ["eu-west", "us-east"]}),
    }
    paid = {name for name, tier in FEATURES.items() if tier != Tier.free}
    assert paid == set(attempts), "a paid feature without an enforcement test (or a test of a removed one)"
    for feature, (method, path, body) in attempts.items():
        r = await client.request(method, path, headers=alice.bearer, json=body)
        details = assert_error(r, 403, "FEATURE_NOT_IN_TIER")["details"]
        assert details["feature"] == feature, r.text


async def test_tier_comparison_lists_existing_features(client):
    rows = (await client.get("/api/v1/public/tier-comparison")).json()["rows"]
    features = {r["key"].split(":", 1)[1] for r in rows if r["key"].startswith("feature:")}
    assert "custom_roles" not in features
    assert features == {"sso", "audit_log", "api_tokens", "status_pages", "multi_region_probes", "ai_heartbeats",
                        "telemetry", "escalation_policies"}
