"""The HTTP contract (docs/errors.md, docs/security.md "Limits"): what every answer of the API carries, one
concern per module, installed in one order by `install`.

From the outside in (each layer wraps the next; the request meets them top to bottom, the answer bottom
to top):

1. `contract.HttpContractMiddleware` — one pure-ASGI layer (not BaseHTTPMiddleware: it wraps every request,
   the ping path's included), running its concerns in this order:
   `headers` (one pass over the request headers) → `request_id` (X-Request-Id, and the client address
   behind trusted proxies) → `ratelimit` (the global per-credential / per-address limit: 429 + headers) →
   the app → `caching` on the answer (rate-limit and request-id headers, `Cache-Control: no-store` and
   `Vary` on what depends on the caller, ETag and If-None-Match → 304) → `failure` (an exception nothing
   answered: 500 `INTERNAL_ERROR` or 503 for a dependency, still with the headers above).
2. `kit.http.bodylimit.BodyLimitMiddleware` — the body caps (413), inside the contract so a 413 has its headers,
   outside everything that reads the body.
3. `kit.http.idempotency.IdempotencyMiddleware` — Idempotency-Key replays (they carry the contract's headers).
4. the layers the app passes, innermost first (the heartbeat ping and PagerDuty-events fast paths, the
   domains' own middlewares), then FastAPI: the error catalog's
   exception handlers (`kit.errors.install_error_handlers`) answer the `AppError`s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.types import ASGIApp

from xinex.kit.errors import install_error_handlers
from xinex.kit.http.bodylimit import BodyCap, BodyLimitMiddleware
from xinex.kit.http.caching import etag_for
from xinex.kit.http.contract import HttpContractMiddleware
from xinex.kit.http.headers import credential_of
from xinex.kit.http.idempotency import IdempotencyMiddleware
from xinex.kit.ratelimit import RateLimiter

__all__ = ["HttpContractMiddleware", "credential_of", "etag_for", "install"]


def install(app: Any, *, limiter: RateLimiter, default_limit: str, trusted_proxies: Sequence[str],
            body_cap: BodyCap, body_caps_by_prefix: Sequence[tuple[str, BodyCap]], get_db: Callable[[], Any],
            innermost: Sequence[type[ASGIApp] | Callable[..., ASGIApp]] = ()) -> None:
    """The error catalog's handlers, then the middlewares in the order above (Starlette wraps each added one
    around the previous: added innermost first)."""
    install_error_handlers(app)
    for layer in innermost:
        app.add_middleware(layer)
    app.add_middleware(IdempotencyMiddleware, get_db=get_db)
    app.add_middleware(BodyLimitMiddleware, default=body_cap, by_prefix=tuple(body_caps_by_prefix))
    app.add_middleware(HttpContractMiddleware, limiter=limiter, default_limit=default_limit,
                       trusted_proxies=tuple(trusted_proxies))
