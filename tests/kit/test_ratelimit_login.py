"""Per-account and per-IP limits on login (memory storage), and which address counts as the client."""

from __future__ import annotations

from tests.conftest import assert_error
from tests.kit.conftest import client_for, random_ip


async def _login(c, email: str, password: str, **headers):
    c.cookies.clear()  # each attempt is a separate browser: no session rotation between them
    return await c.post("/api/v1/auth/login", json={"email": email, "password": password}, headers=headers)


async def test_login_limit_per_account_across_ips_for_unknown_devices(build_app, alice):
    small = build_app(rate_limit_login_account="3/minute", rate_limit_login_ip="1000/minute")
    for i in range(3):
        async with client_for(small) as c:  # a new address each time
            r = await _login(c, alice.email, "wrong password" if i else alice.password)
            assert r.status_code in (200, 401)
    async with client_for(small) as c:
        # Even the right password from a fresh address is refused: the account is under attack.
        r = await _login(c, alice.email.upper(), alice.password)
        body = assert_error(r, 429, "RATE_LIMITED")
        assert int(r.headers["retry-after"]) >= 1
        assert body["details"]["limit"] == 3
        # The headers describe the login limit that answered, not the global one.
        assert r.headers["x-ratelimit-limit"] == "3" and r.headers["x-ratelimit-remaining"] == "0"
        # Another account is not affected.
        r = await _login(c, "someone-else@example.com", "whatever pw")
        assert_error(r, 401, "UNAUTHENTICATED")


async def test_login_limit_per_ip_across_accounts(build_app, alice, outsider):
    small = build_app(rate_limit_login_ip="3/minute", rate_limit_login_account="1000/minute")
    ip = random_ip()
    async with client_for(small, ip=ip) as c:
        for n in range(3):
            r = await _login(c, f"spray-{n}@example.com", "password123!")
            assert_error(r, 401, "UNAUTHENTICATED")
        assert_error(await _login(c, alice.email, alice.password), 429, "RATE_LIMITED")
        assert_error(await _login(c, outsider.email, outsider.password), 429, "RATE_LIMITED")
    async with client_for(small) as c:  # another address logs in fine
        assert (await _login(c, alice.email, alice.password)).status_code == 200


async def test_forwarded_for_ignored_from_untrusted_peer(build_app, alice):
    small = build_app(rate_limit_login_ip="2/minute", trusted_proxies=["10.250.0.0/16"])
    peer = random_ip().replace("10.250.", "10.251.")  # never inside the trusted range
    async with client_for(small, ip=peer) as c:
        # A client cannot dodge the per-IP limit by inventing a new X-Forwarded-For each time.
        for n in range(2):
            r = await _login(c, alice.email, alice.password, **{"X-Forwarded-For": f"198.51.100.{n + 1}"})
            assert r.status_code == 200
        r = await _login(c, alice.email, alice.password, **{"X-Forwarded-For": "198.51.100.99"})
        assert_error(r, 429, "RATE_LIMITED")
    # ...and the address recorded for the session is the real peer, not the forged header.
    async with client_for(small, ip=peer) as c:
        sessions = (await c.get("/api/v1/sessions", headers=alice.bearer)).json()["items"]
    assert peer in {s["ip"] for s in sessions}
    assert not {s["ip"] for s in sessions} & {"198.51.100.1", "198.51.100.2"}


async def test_forwarded_for_honoured_from_trusted_proxy(build_app, alice):
    small = build_app(rate_limit_login_ip="2/minute", trusted_proxies=["10.250.0.0/16"])
    client_a, client_b = "203.0.113.10", "203.0.113.20"
    async with client_for(small, ip="10.250.0.5") as proxy:
        for _ in range(2):
            r = await _login(proxy, alice.email, alice.password, **{"X-Forwarded-For": client_a})
            assert r.status_code == 200
        assert_error(await _login(proxy, alice.email, alice.password, **{"X-Forwarded-For": client_a}),
                     429, "RATE_LIMITED")
        # Behind the same proxy, another real client has its own budget.
        # A spoofed left-most hop is ignored: the right-most untrusted hop is the client.
        r = await _login(proxy, alice.email, alice.password,
                         **{"X-Forwarded-For": f"{client_a}, {client_b}, 10.250.0.9"})
        assert r.status_code == 200
        sessions = (await proxy.get("/api/v1/sessions", headers=alice.bearer)).json()["items"]
    ips = {s["ip"] for s in sessions}
    assert {client_a, client_b} <= ips
    assert "10.250.0.5" not in ips


async def test_known_device_signs_in_through_a_per_account_block(build_app, alice):
    """Lock-out as denial of service: an attacker exhausting alice's per-account budget must not keep
    her out of the browser she signed in with before (OWASP device cookies)."""
    small = build_app(rate_limit_login_account="3/minute", rate_limit_login_ip="1000/minute")
    async with client_for(small) as alices_browser:
        r = await alices_browser.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert r.status_code == 200
        device = next(h for h in r.headers.get_list("set-cookie") if h.startswith("xinex_device="))
        assert {"httponly", "samesite=strict", "path=/"} <= {a.strip().lower() for a in device.split(";")[1:]}
        for _ in range(2):  # the attacker, from anywhere, uses up what alice's sign-in left of the budget
            async with client_for(small) as attacker:
                assert_error(await _login(attacker, alice.email, "guess guess guess"), 401, "UNAUTHENTICATED")
        async with client_for(small) as attacker:
            assert_error(await _login(attacker, alice.email, alice.password), 429, "RATE_LIMITED")
        # Alice's own browser, with the right password, is let through (no session rotation needed).
        r = await alices_browser.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert r.status_code == 200, r.text
        assert (await alices_browser.get("/api/v1/me")).json()["id"] == alice.user_id
        # A wrong password from the known device is still a failure, and the device has its own budget.
        statuses = [(await alices_browser.post("/api/v1/auth/login",
                                               json={"email": alice.email, "password": "typo typo typo"})).status_code
                    for _ in range(3)]
        assert statuses == [401, 401, 429]


async def test_known_device_skips_a_per_ip_block(build_app, alice):
    small = build_app(rate_limit_login_ip="2/minute", rate_limit_login_account="1000/minute")
    ip = random_ip()  # e.g. an office NAT that someone else is spraying from
    async with client_for(small, ip=ip) as alices_browser:
        assert (await alices_browser.post("/api/v1/auth/login",
                                          json={"email": alice.email, "password": alice.password})).status_code == 200
        async with client_for(small, ip=ip) as sprayer:
            assert_error(await _login(sprayer, "spray-a@example.com", "password123!"), 401, "UNAUTHENTICATED")
            assert_error(await _login(sprayer, "spray-b@example.com", "password123!"), 429, "RATE_LIMITED")
        r = await alices_browser.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert r.status_code == 200, r.text


async def test_device_cookie_of_another_account_or_forged_is_no_bypass(build_app, alice, outsider):
    small = build_app(rate_limit_login_account="2/minute", rate_limit_login_ip="1000/minute")
    async with client_for(small) as c:
        r = await c.post("/api/v1/auth/login", json={"email": outsider.email, "password": outsider.password})
        outsiders_device = r.cookies["xinex_device"]
    user_id, device_id, expires, mac = outsiders_device.split(".")
    forged = f"{alice.user_id}.{device_id}.{expires}.{mac}"  # re-pointed at alice: the MAC no longer fits
    for cookie in (outsiders_device, forged, "garbage", "a.b.c.d"):
        async with client_for(small) as attacker:
            attacker.cookies.set("xinex_device", cookie)
            r = await attacker.post("/api/v1/auth/login", json={"email": alice.email, "password": "guess guess guess"})
            assert r.status_code in (401, 429)
    async with client_for(small) as attacker:
        attacker.cookies.set("xinex_device", outsiders_device)
        r = await attacker.post("/api/v1/auth/login", json={"email": alice.email, "password": alice.password})
        assert_error(r, 429, "RATE_LIMITED")


async def test_account_limit_windows_are_progressive(build_app, alice):
    """Several windows: bursts meet the short one, sustained guessing the long one (longer wait)."""
    small = build_app(rate_limit_login_account="1000/minute;3/hour", rate_limit_login_ip="1000/minute")
    for _ in range(3):
        async with client_for(small) as c:
            assert_error(await _login(c, alice.email, "guess guess guess"), 401, "UNAUTHENTICATED")
    async with client_for(small) as c:
        r = await _login(c, alice.email, "guess guess guess")
        assert_error(r, 429, "RATE_LIMITED")
        assert int(r.headers["retry-after"]) > 60
