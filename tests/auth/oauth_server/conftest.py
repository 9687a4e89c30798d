"""Helpers for driving our OAuth server the way the mobile app does (PKCE S256 over HTTP)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

_ips = itertools.count(1)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def session_cookie(account) -> dict:
    return {"Cookie": f"xinex_session={account.cookies['xinex_session']}"}


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Mobile:
    """One phone: its own client IP (so per-IP token limits do not couple tests) and the app settings."""

    http: httpx.AsyncClient
    client_id: str
    redirect_uri: str

    async def authorize(self, account, challenge: str | None, **params) -> httpx.Response:
        query = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                 "state": "st-" + secrets.token_hex(4)}
        if challenge is not None:
            query.update(code_challenge=challenge, code_challenge_method="S256")
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        headers = session_cookie(account) if account is not None else {}
        return await self.http.get("/oauth/authorize", params=query, headers=headers)

    async def code_for(self, account, challenge: str, **params) -> str:
        r = await self.authorize(account, challenge, **params)
        assert r.status_code == 302, r.text
        q = query_of(r.headers["location"])
        assert "code" in q, q
        return q["code"]

    async def exchange(self, code: str, verifier: str, **overrides) -> httpx.Response:
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                "client_id": self.client_id, "redirect_uri": self.redirect_uri, **overrides}
        return await self.http.post("/oauth/token", data={k: v for k, v in form.items() if v is not None})

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.http.post("/oauth/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id})

    async def sign_in(self, account) -> dict:
        verifier, challenge = pkce_pair()
        code = await self.code_for(account, challenge)
        r = await self.exchange(code, verifier)
        assert r.status_code == 200, r.text
        return r.json()

    async def me(self, access_token: str) -> httpx.Response:
        return await self.http.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture(name="mobile")  # importable elsewhere as mobile_fixture without shadowing
async def mobile_fixture(app, settings):
    ip = f"10.77.{next(_ips) // 250}.{next(_ips) % 250 + 1}"
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Mobile(http, settings.mobile_client_id, settings.mobile_redirect_uris[0])
