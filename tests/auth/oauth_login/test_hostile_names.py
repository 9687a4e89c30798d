"""Names a provider hands us are client input too (Apple's `user` form field is unsigned): NUL and
other control characters are dropped from the display name instead of failing the sign-in with a 500."""

from __future__ import annotations

import hashlib
import time

from tests.auth.oauth_login.conftest import new_person
from tests.auth.oauth_login.test_apple import apple_token
from tests.conftest import assert_error


async def test_apple_first_user_name_with_control_characters_signs_in(browser, oidc_provider):
    person = new_person(email_verified="true")
    del person["name"]
    oidc_provider.user = person
    oidc_provider.apple_first_user = {"name": {"firstName": "Ada\x00", "lastName": "Love\tlace\ud800"},
                                      "email": person["email"]}
    r = await browser.start("apple")
    method, path, fields = await browser.at_provider(r.headers["location"])
    cb = await browser.callback(method, path, fields, headers={"Accept": "application/json"})
    assert cb.status_code == 200, cb.text
    assert cb.json()["user"]["name"] == "Ada Lovelace"
    me = await browser.client.get("/api/v1/me", cookies={"xinex_session": cb.cookies["xinex_session"]})
    assert me.status_code == 200 and me.json()["name"] == "Ada Lovelace"
    assert me.json()["tenants"][0]["name"] == "Ada Lovelace's team"


async def test_apple_native_name_with_nul_is_422(client, oidc_provider):
    raw_nonce = "native-nonce-hostile-123"
    token = apple_token(oidc_provider, nonce=hashlib.sha256(raw_nonce.encode()).hexdigest(),
                        sub=f"apple-hostile-{time.time_ns()}")
    r = await client.post("/api/v1/auth/oauth/apple/native", json={"id_token": token, "nonce": raw_nonce,
                                                                    "name": "Ada\x00"})
    assert set(assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]) == {"name"}
