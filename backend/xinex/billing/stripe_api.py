"""The one door to Stripe's API: the official SDK, API version pinned, base address from settings.

Every call goes through `call()`, which turns Stripe's failures into catalog errors: no answer ->
503 (dependency "stripe"), a refused parameter -> 422 naming the field, anything else -> 502.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from functools import lru_cache
from typing import Any, TypeVar

import stripe

from xinex.kit.errors import AppError
from xinex.settings import get_settings

log = logging.getLogger("xinex.billing")
# The SDK logs every request and answer at INFO; our own lines say what matters (failures).
logging.getLogger("stripe").setLevel(logging.WARNING)

# Pinned: the shapes this code reads (e.g. the period on subscription items) are this version's.
API_VERSION = "2026-10-28.endive"
TIMEOUT_S = 15.0
NETWORK_RETRIES = 2

T = TypeVar("T")


def configured() -> bool:
    return bool(get_settings().stripe_secret_key)


def not_configured() -> AppError:
    return AppError("BILLING_NOT_CONFIGURED", "Billing is not configured on this server (no Stripe secret key); "
                    "the tier is set by the operator (xinex tenants set-tier)")


def client() -> stripe.StripeClient:
    settings = get_settings()
    if not settings.stripe_secret_key:
        raise not_configured()
    return _client(settings.stripe_secret_key, settings.stripe_api_base or stripe.DEFAULT_API_BASE)


@lru_cache(maxsize=4)
def _client(secret_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key, stripe_version=API_VERSION, base_addresses={"api": api_base},
        http_client=stripe.HTTPXClient(timeout=TIMEOUT_S), max_network_retries=NETWORK_RETRIES)


def reset_clients() -> None:
    """Forget the cached clients (their connection pools belong to one event loop)."""
    _client.cache_clear()


async def call(awaitable: Awaitable[T], *, fields: dict[str, str] | None = None) -> T:
    """Await a Stripe SDK call. `fields` maps Stripe parameter names to our field names, so a
    refused parameter is reported as the field the caller sent."""
    try:
        return await awaitable
    except stripe.APIConnectionError:
        raise AppError("SERVICE_UNAVAILABLE", "Stripe did not answer; retry later",
                       details={"dependency": "stripe"}) from None
    except stripe.RateLimitError:
        raise AppError("SERVICE_UNAVAILABLE", "Stripe is rate limiting us; retry later",
                       details={"dependency": "stripe"}) from None
    except stripe.InvalidRequestError as exc:
        param = exc.param or ""
        name = next((ours for theirs, ours in (fields or {}).items() if param.startswith(theirs)), None)
        if name is not None:
            raise AppError("VALIDATION_FAILED", "Stripe refused the value",
                           details={"fields": {name: exc.user_message or str(exc.code or "invalid")}}) from None
        log.warning("stripe refused a request: %s (%s)", exc.code, param)
        raise AppError("PAYMENT_PROVIDER_ERROR", "Stripe refused the request",
                       details={"stripe_code": exc.code or "", "param": param}) from None
    except stripe.StripeError as exc:
        log.warning("stripe error: %s %s", type(exc).__name__, exc.code)
        raise AppError("PAYMENT_PROVIDER_ERROR", "Stripe could not complete the request",
                       details={"stripe_code": exc.code or ""}) from None


def plain(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain dicts and lists (what the rest of the domain reads)."""
    if isinstance(obj, dict):
        return obj
    result: dict[str, Any] = obj.to_dict(recursive=True)
    return result
