"""Single use holds under concurrency: two simultaneous redemptions → one wins, the family is revoked."""

from __future__ import annotations

import asyncio

from tests.auth.oauth_server.conftest import pkce_pair


async def test_concurrent_code_redemption_is_treated_as_reuse(mobile, alice):
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(alice, challenge)
    a, b = await asyncio.gather(mobile.exchange(code, verifier), mobile.exchange(code, verifier))
    statuses = sorted([a.status_code, b.status_code])
    assert statuses == [200, 400], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    loser = b if winner is a else a
    assert loser.json()["error"] == "invalid_grant"
    # The loser saw a second use of the code: what the winner got is revoked too.
    assert (await mobile.me(winner.json()["access_token"])).status_code == 401


async def test_concurrent_refresh_is_treated_as_reuse(mobile, alice):
    tokens = await mobile.sign_in(alice)
    a, b = await asyncio.gather(mobile.refresh(tokens["refresh_token"]), mobile.refresh(tokens["refresh_token"]))
    assert sorted([a.status_code, b.status_code]) == [200, 400], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    assert (await mobile.refresh(winner.json()["refresh_token"])).status_code == 400
    assert (await mobile.me(winner.json()["access_token"])).status_code == 401
