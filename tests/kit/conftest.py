"""Throwaway app instances for the API-kit tests: same database, different settings or extra routes."""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager

import httpx
import pytest


def redis_url_for_tests() -> str:
    return os.environ.get("XINEX_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def random_ip() -> str:
    """A client address no other test uses, so per-IP limits start from zero."""
    b = uuid.uuid4().bytes
    return f"10.{b[0]}.{b[1]}.{max(1, b[2])}"


@pytest.fixture
def build_app(app, settings, db):
    """build_app(**setting_overrides) -> a fresh FastAPI app on the shared test database.

    Depends on `app` so the in-process job queue of the main app is installed (jobs still run)."""
    from xinex.app import create_app

    def _build(**overrides):
        return create_app(settings.model_copy(update=overrides), db=db)

    return _build


@asynccontextmanager
async def client_for(application, ip: str | None = None, raise_app_exceptions: bool = True):
    transport = httpx.ASGITransport(
        app=application, client=(ip or random_ip(), 12345), raise_app_exceptions=raise_app_exceptions
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
