"""What we sell: a price per paid tier, interval and currency, found in Stripe by lookup key
`xinex_<tier>_<interval>_<currency>` (`xinex billing sync-prices` creates them from this table)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from xinex.models.tenant import Tier
from xinex.tiers.catalog import TIER_ORDER, limits_for

INTERVALS = ("month", "year")
CURRENCIES = ("usd", "eur", "gbp")
PAID_TIERS = tuple(t for t in TIER_ORDER if t != Tier.free)

# Amounts in the currency's minor unit. USD follows the tier catalog; EUR and GBP are set
# prices (not converted at a daily rate, so an invoice never changes between two renewals).
_MONTHLY: dict[Tier, dict[str, int]] = {
    Tier.pro: {"usd": 100 * limits_for(Tier.pro).price_month_usd, "eur": 2700, "gbp": 2300},
    Tier.team: {"usd": 100 * limits_for(Tier.team).price_month_usd, "eur": 9200, "gbp": 7900},
    Tier.enterprise: {"usd": 100 * limits_for(Tier.enterprise).price_month_usd, "eur": 46900, "gbp": 39900},
}
_YEARLY: dict[Tier, dict[str, int]] = {
    Tier.pro: {"usd": 100 * limits_for(Tier.pro).price_year_usd, "eur": 27000, "gbp": 23000},
    Tier.team: {"usd": 100 * limits_for(Tier.team).price_year_usd, "eur": 92000, "gbp": 79000},
    Tier.enterprise: {"usd": 100 * limits_for(Tier.enterprise).price_year_usd, "eur": 469000, "gbp": 399000},
}

LOOKUP_KEY = re.compile(r"^xinex_(pro|team|enterprise)_(month|year)_([a-z]{3})$")


@dataclass(frozen=True)
class PriceSpec:
    tier: str
    interval: str
    currency: str
    unit_amount: int

    @property
    def lookup_key(self) -> str:
        return lookup_key(self.tier, self.interval, self.currency)


def lookup_key(tier: str, interval: str, currency: str) -> str:
    return f"xinex_{tier}_{interval}_{currency}"


def parse_lookup_key(key: str | None) -> tuple[str, str, str] | None:
    """(tier, interval, currency) of one of our lookup keys, None for any other price."""
    match = LOOKUP_KEY.match(key or "")
    return (match.group(1), match.group(2), match.group(3)) if match else None


def amount(tier: str, interval: str, currency: str) -> int:
    table = _MONTHLY if interval == "month" else _YEARLY
    return table[Tier(tier)][currency]


def price_specs(currencies: tuple[str, ...] | list[str] = CURRENCIES) -> list[PriceSpec]:
    return [PriceSpec(t.value, i, c, amount(t.value, i, c))
            for t in PAID_TIERS for i in INTERVALS for c in currencies]


def currencies_table(currencies: tuple[str, ...] | list[str] = CURRENCIES) -> list[dict[str, object]]:
    """Each currency with every tier's price per interval (free at 0), for the plan picker."""
    return [{
        "currency": c,
        "tiers": [{"tier": t.value,
                   "month": 0 if t == Tier.free else amount(t.value, "month", c),
                   "year": 0 if t == Tier.free else amount(t.value, "year", c)} for t in TIER_ORDER],
    } for c in currencies]
