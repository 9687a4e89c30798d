"""What each tier allows. The single source for gating, public tier pages and feature gates."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from xinex.models.tenant import Tier

UNLIMITED = None


@dataclass(frozen=True)
class TierLimits:
    monitors: int | None
    heartbeats: int | None
    members: int | None
    status_pages: int | None
    telemetry_retention_days: int
    # Check results, heartbeat pings and AI runs in the time-series store (per-row TTL).
    history_retention_days: int
    check_interval_floor_s: int
    heartbeat_interval_floor_s: int
    sso: bool
    price_month_usd: int
    price_year_usd: int


TIERS: dict[Tier, TierLimits] = {
    Tier.free: TierLimits(10, 10, 3, 1, 3, 30, 300, 60, False, 0, 0),
    Tier.pro: TierLimits(50, 100, 10, 3, 15, 90, 60, 30, False, 29, 290),
    Tier.team: TierLimits(250, 500, 50, 10, 30, 365, 30, 10, False, 99, 990),
    Tier.enterprise: TierLimits(UNLIMITED, UNLIMITED, UNLIMITED, UNLIMITED, 90, 730, 10, 1, True, 499, 4990),
}

# Limit name -> human label (used in error messages and the comparison table).
LIMIT_LABELS = {
    "monitors": "Uptime monitors",
    "heartbeats": "Heartbeats",
    "members": "Team members",
    "status_pages": "Status pages",
    "telemetry_retention_days": "Telemetry retention (days)",
    "history_retention_days": "Check and ping history (days)",
    "check_interval_floor_s": "Shortest check interval (s)",
    "heartbeat_interval_floor_s": "Shortest heartbeat period (s)",
    "sso": "SAML single sign-on",
}

# Each feature here is enforced where it applies (FEATURE_NOT_IN_TIER; tests/tiers/test_feature_catalog.py)
# or included in every plan. Escalation policies are on every plan (on-call needs them); custom roles do
# not exist and are not listed.
FEATURES: dict[str, Tier] = {
    "sso": Tier.enterprise,
    "audit_log": Tier.free,
    "api_tokens": Tier.free,
    "status_pages": Tier.free,
    "multi_region_probes": Tier.pro,
    "ai_heartbeats": Tier.pro,
    "telemetry": Tier.free,
    "escalation_policies": Tier.free,
}
TIER_ORDER = [Tier.free, Tier.pro, Tier.team, Tier.enterprise]


def limits_for(tier: str) -> TierLimits:
    return TIERS[Tier(tier)]


def tier_dict(tier: Tier) -> dict[str, Any]:
    return {"tier": tier.value, **asdict(TIERS[tier])}


def feature_enabled(tier: str, feature: str) -> bool:
    return TIER_ORDER.index(Tier(tier)) >= TIER_ORDER.index(FEATURES[feature])
