"""/oauth/authorize and /oauth/token with parameters Authlib cannot quote back in an
error_description (non-ASCII, controls, '"', backslash): 400 invalid_request, never a 500."""

from __future__ import annotations

import pytest

from tests.auth.oauth_server.conftest import pkce_pair

HOSTILE = ["\x00", "\t\n", "ÿ", "\u202e", '"', "\\", "code\x7f", "💥"]


def _invalid_request(r) -> dict:
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "invalid_request" and body["code"] == "BAD_REQUEST"
    assert isinstance(body["details"], dict) and body["error_description"]
    return body


@pytest.mark.parametrize("response_type", HOSTILE)
async def test_authorize_with_unquotable_response_type(mobile, alice, response_type):
    _, challenge = pkce_pair()
    _invalid_request(await mobile.authorize(alice, challenge, response_type=response_type))
    _invalid_request(await mobile.authorize(None, challenge, response_type=response_type))


async def test_authorize_still_issues_codes_and_refuses_plain_unsupported_types(mobile, alice):
    _, challenge = pkce_pair()
    assert (await mobile.authorize(alice, challenge)).status_code == 302
    r = await mobile.authorize(alice, challenge, response_type="token")
    assert r.status_code == 302 and "error=unsupported_response_type" in r.headers["location"]


@pytest.mark.parametrize("grant_type", HOSTILE)
async def test_token_with_hostile_grant_type(mobile, grant_type):
    r = await mobile.http.post("/oauth/token", data={"grant_type": grant_type, "code": "x" * 20,
                                                      "client_id": mobile.client_id})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] in ("BAD_REQUEST", "TOKEN_INVALID") and isinstance(body["details"], dict)
