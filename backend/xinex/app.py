"""The FastAPI application: middlewares, error catalog, routers, lifespan."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from xinex import __version__
from xinex.heartbeats.router import PingFastPath
from xinex.integrations.mount import FAST_PATH as EventsFastPath
from xinex.integrations.mount import INBOUND_PREFIXES
from xinex.kit import http
from xinex.kit.db import Database
from xinex.kit.heap import settle_heap_for_serving
from xinex.kit.http.bodylimit import BodyCap
from xinex.kit.jobs import ArqQueue, InProcessQueue, current_queue, set_queue
from xinex.kit.logging import configure_logging
from xinex.kit.loops import start as start_loops
from xinex.kit.loops import supervise
from xinex.kit.ratelimit import RateLimiter
from xinex.kit.routing import PrefixedRouter, seal_route_tree
from xinex.settings import Settings, get_settings
from xinex.telemetry.query_gate import query_gate_for

log = logging.getLogger("xinex.app")

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every domain's router, mounted under /api/v1."""
    from xinex.routes import ROUTERS

    router = PrefixedRouter(prefix=API_PREFIX)
    for sub in ROUTERS:
        router.include_router(sub)
    return router


def create_app(settings: Settings | None = None, *, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(access_log=settings.access_log)
    database = db or Database(settings.effective_database_url)
    limiter = RateLimiter(settings.redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.redis_url and not getattr(app.state, "force_inprocess_jobs", False):
            # Redis down: jobs committed meanwhile run in this process rather than wait (kit/jobs.py).
            queue = await ArqQueue.connect(settings.redis_url,
                                           fallback=InProcessQueue({"db": database, "settings": settings}))
        else:
            queue = InProcessQueue({"db": database, "settings": settings})
        app.state.jobs = queue
        previous_queue = current_queue()
        set_queue(queue)
        # Long-running loops (e.g. the heartbeat sweeper) run here when embedded; workers run them otherwise.
        from xinex.routes import BACKGROUND_TASKS

        stop = asyncio.Event()
        embedded = isinstance(queue, InProcessQueue)
        app.state.background = start_loops(BACKGROUND_TASKS, database, stop) if embedded else []
        if settings.redis_url:
            # Other replicas' credential changes clear this process's API-token cache.
            from xinex.identity.credential_cache import run_invalidation_listener

            # Supervised: Redis going away ends the subscription; it must resume when Redis is back.
            app.state.background.append(asyncio.create_task(supervise(
                "credential-cache invalidation listener", lambda: run_invalidation_listener(settings.redis_url, stop),
                stop)))
        seal_route_tree(app.router)
        if settings.env != "test":
            from xinex.startup import announce

            await announce(settings, database, embedded_jobs=embedded)
        settle_heap_for_serving()
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*app.state.background, return_exceptions=True)
            from xinex.heartbeats.writer import close_writer

            await close_writer(app)
            from xinex.integrations.writer import close_writer as close_inbound_writer

            await close_inbound_writer(app)
            await app.state.oql_gate.close()
            from xinex.kit.outbound import close_provider_clients

            await close_provider_clients()  # the pooled APNs/FCM connections of this process
            await queue.close()
            set_queue(previous_queue)  # another app in the same process (tests) keeps its own
            if db is None:
                await database.dispose()

    app = FastAPI(
        title="Xinex API",
        version=__version__,
        description="Monitoring and on-call platform. Errors use one catalog: see docs/errors.md.",
        lifespan=lifespan,
        # Served by xinex.site with local assets (FastAPI's defaults load them from a CDN).
        docs_url=None, redoc_url=None,
        # FastAPI's native OpenTelemetry hooks would otherwise probe the global providers on every
        # request; the OTel SDK is installed here for OTLP tests, not to instrument the API itself.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.db = database
    app.state.limiter = limiter
    app.state.extra_bearer_resolvers = []
    from xinex.audit.denials import record_denial

    app.state.error_observers = [record_denial]
    from xinex.sso.selftest import saml_self_test

    app.state.saml_self_test = saml_self_test()  # once per process; SSO answers 503 if it failed
    app.state.oql_gate = query_gate_for(settings)

    from xinex.kit.health import router as health_router

    app.include_router(health_router)
    from xinex.routes import PUBLIC_ROOT_ROUTERS

    # The API router refuses paths outside /api/v1 without scanning its routes, so root surfaces
    # (/ping/{uuid}) pay one prefix check for it and API requests skip the root routes.
    app.include_router(api_router())
    for sub in PUBLIC_ROOT_ROUTERS:
        app.include_router(sub)
    from xinex.site import openapi

    openapi.install(app)

    # The error catalog and the middlewares in their one order (kit/http/__init__.py): the contract
    # outermost, the body caps, idempotency, then the app's own layers, innermost first in this list: the
    # ping and the PagerDuty-events fast paths, then the domains' own (status pages' custom domains).
    from xinex.routes import MIDDLEWARE

    http.install(
        app, limiter=limiter, default_limit=settings.rate_limit_default, trusted_proxies=settings.trusted_proxies,
        body_cap=BodyCap(settings.body_limit),
        body_caps_by_prefix=(("/ping/", BodyCap(settings.ping_body_limit, truncate=True)),
                             *((prefix, BodyCap(settings.integration_body_limit)) for prefix in INBOUND_PREFIXES)),
        get_db=lambda: database, innermost=[PingFastPath, EventsFastPath, *MIDDLEWARE])
    return app
