"""Hostile input never answers 500: NUL in names, tags, filters, slugs and ping bodies (fuzzer finds)."""

from __future__ import annotations

import asyncio

from tests.conftest import assert_error

BASE = "/api/v1/heartbeats"


def _ping_id(hb: dict) -> str:
    return hb["ping_url"].rsplit("/", 1)[1]


async def test_nul_in_fields_is_a_validation_error(client, make_hb, alice, outsider):
    body = assert_error(await client.post(BASE, json={"name": "a\u0000b", "interval": 60}, headers=alice.bearer),
                        422, "VALIDATION_FAILED")
    assert "name" in body["details"]["fields"]
    body = assert_error(await client.post(BASE, json={"name": "ok", "tags": ["\u0000"]}, headers=alice.bearer),
                        422, "VALIDATION_FAILED")
    assert any(f.startswith("tags") for f in body["details"]["fields"])

    hb = await make_hb(interval=60)
    r = await client.put(f"{BASE}/{hb['id']}", json={"name": "\u0000"}, headers=alice.bearer)
    assert_error(r, 422, "VALIDATION_FAILED")
    # Another tenant's heartbeat answers 404, whatever the body.
    r = await client.put(f"{BASE}/{hb['id']}", json={"name": "fine"}, headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")

    assert_error(await client.get(BASE, params={"tag": "a\u0000"}, headers=alice.bearer), 422, "VALIDATION_FAILED")

    r = await client.post("/api/v1/heartbeat/ping", json={"name": "job\u0000"}, headers=alice.bearer)
    assert_error(r, 422, "VALIDATION_FAILED")


async def test_native_ping_to_impossible_slug_is_404(client, make_hb, alice, outsider):
    hb = await make_hb(interval=60, slug="nightly-db")
    for slug in ("%00", "a%00b", "%C3%BC", "x" * 300):
        assert_error(await client.post(f"/api/v1/hb/{slug}", headers=alice.bearer), 404, "NOT_FOUND")
    assert_error(await client.post(f"/api/v1/hb/{hb['slug']}", headers=outsider.bearer), 404, "NOT_FOUND")
    r = await client.post(f"/api/v1/hb/{hb['slug']}", headers=alice.bearer)
    assert r.status_code == 200, r.text


async def test_nul_in_ping_bodies_is_stored_not_refused(client, make_hb, alice, outsider):
    """A job's output may hold NUL: the ping counts (200), the body is kept with U+FFFD in its place,
    and pings batched with it are not failed (the group commit shares one transaction)."""
    hb = await make_hb(interval=3600)
    pid = _ping_id(hb)
    other = await make_hb(interval=3600)
    responses = await asyncio.gather(
        client.post(f"/ping/{pid}/log", content=b"out\x00put"),
        client.post(f"/ping/{_ping_id(other)}", content=b"clean"),
    )
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    r = await client.post(f"/api/v1/hb/{hb['slug']}", json={"status": "log", "message": "a\u0000b"},
                          headers=alice.bearer)
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/heartbeat/log", json={"name": hb["name"], "message": "c\u0000d"},
                          headers=alice.bearer)
    assert r.status_code == 200, r.text

    r = await client.get(f"{BASE}/{hb['id']}/pings", params={"kind": "log"}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert sorted(p["body"] for p in r.json()["items"]) == ["a\ufffdb", "c\ufffdd", "out\ufffdput"]
    assert_error(await client.get(f"{BASE}/{hb['id']}/pings", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_a_cron_that_never_fires_and_an_overlong_timezone_are_validation_errors(client, make_hb, alice,
                                                                                       outsider):
    # '0 0 30 2 *' parses but never fires (30 February): it was accepted, and a PUT then failed
    # computing its next firing (500). A 300-character zone name made ZoneInfo raise OSError.
    for body, field in (({"name": "feb30", "cron": "0 0 30 2 *"}, "cron"),
                        ({"name": "tz", "cron": "0 3 * * *", "timezone": "\u00fc" * 300}, "timezone")):
        err = assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
        assert field in err["details"]["fields"]
    hb = await make_hb(cron="0 3 * * *")
    r = await client.put(f"{BASE}/{hb['id']}", json={"cron": "0 0 31 4 *"}, headers=alice.bearer)  # 31 April
    assert "cron" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]
    assert_error(await client.put(f"{BASE}/{hb['id']}", json={"cron": "0 4 * * *"}, headers=outsider.bearer),
                 404, "NOT_FOUND")
    # A leap-day schedule fires (every four years) and is kept.
    r = await client.put(f"{BASE}/{hb['id']}", json={"cron": "0 0 29 2 *"}, headers=alice.bearer)
    assert r.status_code == 200, r.text


async def test_tags_with_an_unpaired_surrogate_are_a_validation_error(client, alice):
    # JSON may escape a lone surrogate; no database can store it as text.
    raw = b'{"name": "surrogate", "interval": 60, "tags": ["a\\ud800"]}'
    r = await client.post(BASE, content=raw, headers={**alice.bearer, "content-type": "application/json"})
    assert any(f.startswith("tags") for f in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"])
