"""Public tier data and the caller's feature gates and flags."""

from __future__ import annotations

from fastapi import APIRouter

from xinex.auth.deps import TenantPrincipal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.tiers.catalog import FEATURES, LIMIT_LABELS, TIER_ORDER, feature_enabled, limits_for, tier_dict
from xinex.tiers.gating import tenant_tier

router = APIRouter(tags=["tiers"])


@router.get("/public/tiers")
async def public_tiers() -> dict:
    return {"items": [tier_dict(t) for t in TIER_ORDER], "total": len(TIER_ORDER), "page": 1,
            "per_page": 25, "total_pages": 1}


@router.get("/public/tier-info")
async def public_tier_info() -> dict:
    return {
        "tiers": [t.value for t in TIER_ORDER],
        "limits": {t.value: tier_dict(t) for t in TIER_ORDER},
        "features": {name: required.value for name, required in FEATURES.items()},
    }


@router.get("/public/tier-comparison")
async def public_tier_comparison() -> dict:
    rows = []
    for limit, label in LIMIT_LABELS.items():
        rows.append({"key": limit, "label": label, "values": {t.value: getattr(limits_for(t), limit) for t in TIER_ORDER}})
    for feature in FEATURES:
        rows.append({"key": f"feature:{feature}", "label": feature.replace("_", " ").capitalize(),
                     "values": {t.value: feature_enabled(t, feature) for t in TIER_ORDER}})
    return {"tiers": [t.value for t in TIER_ORDER], "rows": rows}


@router.get("/feature-gates", responses=error_responses(401, 403))
async def feature_gates(principal: TenantPrincipal, session: SessionDep) -> dict:
    tier = await tenant_tier(session, principal.tenant_id)
    return {"tier": tier, "limits": tier_dict(limits_for_tier(tier)),
            "features": {name: feature_enabled(tier, name) for name in FEATURES}}


def limits_for_tier(tier: str):
    from xinex.models.tenant import Tier

    return Tier(tier)


# Rollout flags independent of tier; a flag is on for a tenant when listed here for its tier or "all".
FLAGS: dict[str, set[str]] = {
    "new_incident_timeline": {"all"},
    "oql_editor": {"all"},
    "ai_heartbeats": {"pro", "team", "enterprise"},
}


@router.get("/feature-flags", responses=error_responses(401, 403))
async def feature_flags(principal: TenantPrincipal, session: SessionDep) -> dict:
    tier = await tenant_tier(session, principal.tenant_id)
    return {"flags": {name: ("all" in tiers or tier in tiers) for name, tiers in FLAGS.items()}}
