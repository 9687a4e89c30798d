"""Single-use codes, refresh rotation, reuse detection (family revocation), RFC 7009 revocation."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select

from tests.auth.oauth_server.conftest import pkce_pair
from tests.conftest import assert_error


async def test_code_reuse_is_refused_and_revokes_what_it_issued(mobile, alice, app):
    verifier, challenge = pkce_pair()
    code = await mobile.code_for(alice, challenge)
    first = await mobile.exchange(code, verifier)
    assert first.status_code == 200
    tokens = first.json()
    assert (await mobile.me(tokens["access_token"])).status_code == 200

    again = await mobile.exchange(code, verifier)
    body = assert_error(again, 400, "TOKEN_INVALID")
    assert body["error"] == "invalid_grant"

    assert_error(await mobile.me(tokens["access_token"]), 401, "UNAUTHENTICATED")
    r = await mobile.refresh(tokens["refresh_token"])
    assert_error(r, 400, "TOKEN_INVALID")

    log = await mobile.http.get("/api/v1/audit-log?action=oauth.", headers=alice.bearer)
    actions = [e["action"] for e in log.json()["items"]]
    assert "oauth.code_reuse_detected" in actions and "oauth.token_issued" in actions
    assert code not in log.text and tokens["refresh_token"] not in log.text


async def test_refresh_rotates_and_old_refresh_token_is_single_use(mobile, alice):
    tokens = await mobile.sign_in(alice)
    r = await mobile.refresh(tokens["refresh_token"])
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]
    assert (await mobile.me(rotated["access_token"])).status_code == 200

    r = await mobile.refresh(rotated["refresh_token"])
    assert r.status_code == 200, r.text
    third = r.json()
    assert (await mobile.me(third["access_token"])).status_code == 200


async def test_refresh_reuse_revokes_the_whole_family(mobile, alice):
    tokens = await mobile.sign_in(alice)
    rotated = (await mobile.refresh(tokens["refresh_token"])).json()

    stolen = await mobile.refresh(tokens["refresh_token"])  # the old one comes back: theft
    body = assert_error(stolen, 400, "TOKEN_INVALID")
    assert body["error"] == "invalid_grant"

    assert_error(await mobile.refresh(rotated["refresh_token"]), 400, "TOKEN_INVALID")
    assert_error(await mobile.me(rotated["access_token"]), 401, "UNAUTHENTICATED")
    assert_error(await mobile.me(tokens["access_token"]), 401, "UNAUTHENTICATED")

    # Another sign-in (another family) of the same user is untouched.
    other = await mobile.sign_in(alice)
    assert (await mobile.me(other["access_token"])).status_code == 200


async def test_refresh_token_of_unknown_or_wrong_client_is_refused(mobile, alice):
    tokens = await mobile.sign_in(alice)
    r = await mobile.refresh("made-up-refresh-token")
    assert_error(r, 400, "TOKEN_INVALID")
    r = await mobile.http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "unknown-app"})
    assert r.json()["error"] == "invalid_client"
    r = await mobile.http.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": mobile.client_id})
    assert_error(r, 400, "BAD_REQUEST")
    # The refused attempts did not consume it.
    assert (await mobile.refresh(tokens["refresh_token"])).status_code == 200


async def test_revoke_refresh_token_signs_the_phone_out(mobile, alice):
    tokens = await mobile.sign_in(alice)
    r = await mobile.http.post("/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": mobile.client_id,
                                                      "token_type_hint": "refresh_token"})
    assert r.status_code == 200, r.text
    assert_error(await mobile.me(tokens["access_token"]), 401, "UNAUTHENTICATED")
    assert_error(await mobile.refresh(tokens["refresh_token"]), 400, "TOKEN_INVALID")


async def test_revoke_access_token_and_bad_input(mobile, alice):
    tokens = await mobile.sign_in(alice)
    r = await mobile.http.post("/oauth/revoke", data={"token": tokens["access_token"], "client_id": mobile.client_id})
    assert r.status_code == 200
    assert_error(await mobile.me(tokens["access_token"]), 401, "UNAUTHENTICATED")
    assert_error(await mobile.refresh(tokens["refresh_token"]), 400, "TOKEN_INVALID")

    # RFC 7009: an unknown token is not an error; a missing one or a missing client is.
    r = await mobile.http.post("/oauth/revoke", data={"token": "nope", "client_id": mobile.client_id})
    assert r.status_code == 200
    r = await mobile.http.post("/oauth/revoke", data={"client_id": mobile.client_id})
    assert_error(r, 400, "BAD_REQUEST")
    r = await mobile.http.post("/oauth/revoke", data={"token": "nope"})
    assert r.json()["error"] == "invalid_client"


async def test_outsider_cannot_revoke_anothers_tokens_by_guessing(mobile, alice, outsider):
    mine = await mobile.sign_in(alice)
    theirs = await mobile.sign_in(outsider)
    r = await mobile.http.post("/oauth/revoke", data={"token": theirs["refresh_token"] + "x", "client_id": mobile.client_id})
    assert r.status_code == 200
    assert (await mobile.me(theirs["access_token"])).status_code == 200
    assert (await mobile.me(mine["access_token"])).status_code == 200


async def test_removed_member_loses_access_and_refresh(mobile, signup, app, db):
    from xinex.models.tenant import Membership

    account = await signup()
    tokens = await mobile.sign_in(account)
    async with db.session() as s:
        await s.execute(delete(Membership).where(Membership.user_id == uuid.UUID(account.user_id),
                                                 Membership.tenant_id == uuid.UUID(account.tenant_id)))
    assert_error(await mobile.me(tokens["access_token"]), 401, "UNAUTHENTICATED")
    assert_error(await mobile.refresh(tokens["refresh_token"]), 400, "TOKEN_INVALID")
    async with db.session() as s:
        left = (await s.execute(select(Membership).where(Membership.user_id == uuid.UUID(account.user_id)))).all()
    assert left == []
