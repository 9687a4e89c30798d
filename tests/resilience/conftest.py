"""Outage fixtures: TCP proxies in front of the test PostgreSQL and Redis that a test cuts."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.kit.conftest import build_app, random_ip  # noqa: F401 - build_app is a fixture used here
from tests.resilience.proxy import TcpProxy


@pytest.fixture
def redis_proxy():
    proxy = TcpProxy.for_url(os.environ["XINEX_TEST_REDIS_URL"]).start()
    yield proxy
    proxy.close()


@pytest.fixture
def pg_proxy():
    proxy = TcpProxy.for_url(os.environ["XINEX_TEST_DATABASE_URL"]).start()
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_redis_url(redis_proxy) -> str:
    return redis_proxy.url(os.environ["XINEX_TEST_REDIS_URL"])


@pytest.fixture
def proxied_database_url(pg_proxy) -> str:
    return pg_proxy.url(os.environ["XINEX_TEST_DATABASE_URL"])


@asynccontextmanager
async def running(application):
    """The app with its lifespan (job queue, background listeners), as a server would run it."""
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=(random_ip(), 12345))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
