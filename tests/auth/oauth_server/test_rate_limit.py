"""/oauth/token is rate-limited per client IP (settings.rate_limit_token)."""

from __future__ import annotations

import httpx

from tests.conftest import assert_error


async def test_token_endpoint_is_rate_limited_per_ip(settings, db):
    from xinex.app import create_app

    app = create_app(settings.model_copy(update={"rate_limit_token": "3/minute"}), db=db)
    form = {"grant_type": "authorization_code", "code": "x", "code_verifier": "y" * 43,
            "client_id": settings.mobile_client_id, "redirect_uri": settings.mobile_redirect_uris[0]}
    async with app.router.lifespan_context(app):
        noisy = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 1)), base_url="http://t")
        quiet = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.9.9.10", 1)), base_url="http://t")
        async with noisy, quiet:
            for _ in range(3):
                r = await noisy.post("/oauth/token", data=form)
                assert_error(r, 400, "TOKEN_INVALID")
            r = await noisy.post("/oauth/token", data=form)
            assert_error(r, 429, "RATE_LIMITED")
            assert int(r.headers["retry-after"]) >= 1
            assert r.json()["error"] == "rate_limited"
            # Another address is not affected.
            assert_error(await quiet.post("/oauth/token", data=form), 400, "TOKEN_INVALID")
