"""Public tier data and the caller's feature gates and flags."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from xinex.identity.deps import TenantPrincipal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.openapi import json_example
from xinex.kit.pagination import Page, PageDep, PageParams
from xinex.models.tenant import Tier
from xinex.tiers import service
from xinex.tiers.catalog import FEATURES, LIMIT_LABELS, TIER_ORDER, feature_enabled, limits_for, tier_dict

router = APIRouter(tags=["tiers"])


def _tiers_page(params: PageParams) -> dict[str, Any]:
    items = [tier_dict(t) for t in TIER_ORDER]
    return Page.of(items[params.offset: params.offset + params.per_page], len(items), params).model_dump()


def _tier_info() -> dict[str, Any]:
    return {
        "tiers": [t.value for t in TIER_ORDER],
        "limits": {t.value: tier_dict(t) for t in TIER_ORDER},
        "features": {name: required.value for name, required in FEATURES.items()},
    }


def _tier_comparison() -> dict[str, Any]:
    rows = []
    for limit, label in LIMIT_LABELS.items():
        rows.append({"key": limit, "label": label, "values": {t.value: getattr(limits_for(t), limit) for t in TIER_ORDER}})
    for feature in FEATURES:
        rows.append({"key": f"feature:{feature}", "label": feature.replace("_", " ").capitalize(),
                     "values": {t.value: feature_enabled(t, feature) for t in TIER_ORDER}})
    return {"tiers": [t.value for t in TIER_ORDER], "rows": rows}


# The documented examples are what these answer, computed from the same catalog (for a pro tenant).
GATES_EXAMPLE = {"tier": "pro", "limits": tier_dict(Tier.pro),
                 "features": {name: feature_enabled("pro", name) for name in FEATURES}}
FLAGS_EXAMPLE = {"flags": {name: ("all" in tiers or "pro" in tiers) for name, tiers in service.FLAGS.items()}}


@router.get("/public/tiers", responses={**error_responses(422),
                                        **json_example(_tiers_page(PageParams(page=1, per_page=1)))})
async def public_tiers(params: PageDep) -> dict[str, Any]:
    """The plans (free, pro, team, enterprise) with their limits, paginated. No credential needed."""
    return _tiers_page(params)


@router.get("/public/tier-info", responses=json_example(_tier_info()))
async def public_tier_info() -> dict[str, Any]:
    """Every plan's limits and, per feature, the lowest plan that includes it. No credential needed."""
    return _tier_info()


@router.get("/public/tier-comparison", responses=json_example(_tier_comparison()))
async def public_tier_comparison() -> dict[str, Any]:
    """A comparison table of the plans: one row per limit and feature, with each plan's value. No credential
    needed."""
    return _tier_comparison()


@router.get("/feature-gates", responses={**error_responses(401, 403), **json_example(GATES_EXAMPLE)})
async def feature_gates(principal: TenantPrincipal, session: SessionDep) -> dict[str, Any]:
    """The current tenant's plan, its limits and which features it includes."""
    return await service.feature_gates(session)


@router.get("/feature-flags", responses={**error_responses(401, 403), **json_example(FLAGS_EXAMPLE)})
async def feature_flags(principal: TenantPrincipal, session: SessionDep) -> dict[str, Any]:
    """Rollout flags for the current tenant (interface features switched on per plan or for all)."""
    return {"flags": await service.feature_flags(session)}
