"""The public JSON: a component follows a real monitor going down against a local HTTP target and back,
the 90 daily bars come from the same check results as /analytics/uptime (a day without data is null),
and nothing internal is ever on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xinex.status_pages import snapshot

from tests.conftest import assert_error
from tests.status_pages.conftest import (
    BASE,
    PUBLIC,
    UUID_RE,
    check,
    forbidden_keys,
    make_component,
    make_monitor,
    make_page,
    wait_for,
)


async def _public(client, slug: str) -> dict:
    r = await client.get(f"{PUBLIC}/{slug}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_component_follows_a_real_monitor_down_and_back(client, alice, db, http_target):
    http_target.flip_status = 200
    monitor = await make_monitor(client, db, alice, http_target.url("/flip"))
    page = await make_page(client, alice)
    r = await client.post("/api/v1/status/groups", json={"page_id": page["id"], "name": "Web"}, headers=alice.bearer)
    comp = await make_component(client, alice, page["id"], name="Website", source_type="monitor",
                                source_id=monitor["id"], group_id=r.json()["id"])
    await make_component(client, alice, page["id"], name="Support desk")

    await check(db, monitor)

    async def component_status(expected: str):
        data = await _public(client, page["slug"])
        c = data["groups"][-1]["components"][0]
        return data if c["status"] == expected else None

    data = await wait_for(lambda: component_status("operational"))
    assert data["status"] == {"status": "operational", "description": "All systems operational"}
    website = data["groups"][-1]["components"][0]
    assert website["key"] == comp["key"] and website["name"] == "Website"

    http_target.flip_status = 503
    await check(db, monitor)
    data = await wait_for(lambda: component_status("major_outage"))
    assert data["status"]["status"] == "major_outage"
    assert data["groups"][-1]["status"] == "major_outage"
    assert data["groups"][0]["name"] is None and data["groups"][0]["status"] == "operational"  # the manual one

    http_target.flip_status = 200
    await check(db, monitor)
    data = await wait_for(lambda: component_status("operational"))
    assert data["status"]["status"] == "operational"

    # A manual override wins over the monitor, and clearing it derives the status again.
    r = await client.put(f"/api/v1/status/components/{comp['id']}", headers=alice.bearer,
                         json={"name": "Website", "source_type": "monitor", "source_id": monitor["id"],
                               "status_override": "maintenance"})
    assert r.status_code == 200, r.text
    data = await wait_for(lambda: component_status("maintenance"))
    assert data["status"]["description"] == "Maintenance in progress"


async def test_ninety_daily_bars_time_based_with_no_data_days(client, alice, db, http_target):
    http_target.flip_status = 200
    monitor = await make_monitor(client, db, alice, http_target.url("/flip"))
    page = await make_page(client, alice)
    await make_component(client, alice, page["id"], name="Website", source_type="monitor", source_id=monitor["id"])
    manual = await make_component(client, alice, page["id"], name="Phones")
    await check(db, monitor)
    snapshot._BARS.clear()  # the bars of this page were computed before its first check
    snapshot.invalidate(db, page["slug"])
    data = await _public(client, page["slug"])
    comps = {c["name"]: c for g in data["groups"] for c in g["components"]}
    days = comps["Website"]["days"]
    assert len(days) == 90
    today = datetime.now(UTC).date()
    assert days[-1]["date"] == today.isoformat() and days[0]["date"] == (today - timedelta(days=89)).isoformat()
    # Before the monitor's first result there is no data: null and "no_data", never 100 %.
    assert all(d["uptime_pct"] is None and d["status"] == "no_data" for d in days[:-1])
    assert days[-1]["uptime_pct"] == 100.0 and days[-1]["status"] == "operational"
    assert comps["Website"]["uptime_90d_pct"] == 100.0
    # The same figure as /analytics/uptime for today.
    start = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    r = await client.get("/api/v1/analytics/uptime", headers=alice.bearer,
                         params={"monitor_id": monitor["id"], "from": start.isoformat(), "period": "day"})
    assert r.status_code == 200, r.text
    assert r.json()["periods"][-1]["uptime_pct"] == days[-1]["uptime_pct"]
    # A manual component has data from its creation on: today only.
    assert [d["status"] for d in comps["Phones"]["days"]][-2:] == ["no_data", "operational"]
    assert comps["Phones"]["key"] == manual["key"]


async def test_nothing_internal_on_the_public_surface(client, alice, db, http_target):
    monitor = await make_monitor(client, db, alice, http_target.url("/ok?secret-path=1"))
    page = await make_page(client, alice, custom_domain="status.example.org")
    comp = await make_component(client, alice, page["id"], name="API", source_type="monitor", source_id=monitor["id"],
                                description="The public API")
    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly"}, headers=alice.bearer)).json()
    await make_component(client, alice, page["id"], name="Nightly", source_type="heartbeat", source_id=hb["id"])
    r = await client.post(f"{BASE}/{page['id']}/incidents", headers=alice.bearer, json={
        "title": "Slow API", "message": "Looking into it", "components": [
            {"component_id": comp["id"], "impact": "degraded"}]})
    assert r.status_code == 201, r.text
    await check(db, monitor)
    snapshot.invalidate(db, page["slug"])
    data = await _public(client, page["slug"])
    assert forbidden_keys(data) == []
    history = (await client.get(f"{PUBLIC}/{page['slug']}/incidents")).json()
    assert history["total"] == 1 and forbidden_keys(history) == []
    texts = []
    for path in ("", "/feed.atom", "/feed.rss", "/badge.svg", f"/components/{comp['key']}/badge.svg",
                 f"/components/{comp['key']}/uptime.svg"):
        r = await client.get(f"/status/{page['slug']}{path}")
        assert r.status_code == 200, (path, r.text)
        texts.append(r.text)
    texts += [(await client.get(f"{PUBLIC}/{page['slug']}")).text, str(history)]
    for text in texts:
        assert not UUID_RE.search(text), text[:500]
        assert alice.tenant_id not in text and "secret-path" not in text and http_target.base not in text
        assert "status.example.org" not in text
    assert data["groups"][0]["components"][0]["status"] == "degraded"  # the incident's impact


async def test_unknown_slugs_and_caching_headers(client, alice):
    assert_error(await client.get(f"{PUBLIC}/no-such-page-here"), 404, "NOT_FOUND")
    assert_error(await client.get(f"{PUBLIC}/Bad_Slug"), 422, "VALIDATION_FAILED")
    assert (await client.get("/status/no-such-page-here")).status_code == 404
    page = await make_page(client, alice)
    r = await client.get(f"{PUBLIC}/{page['slug']}")
    assert r.headers["cache-control"] == "public, max-age=1" and r.headers["etag"]
    r2 = await client.get(f"{PUBLIC}/{page['slug']}", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status_code == 304
    # Browsers and CDNs take gzip: the same JSON, compressed once per snapshot.
    plain = await client.get(f"{PUBLIC}/{page['slug']}", headers={"Accept-Encoding": "identity"})
    zipped = await client.get(f"{PUBLIC}/{page['slug']}", headers={"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers and zipped.headers["content-encoding"] == "gzip"
    assert zipped.json()["page"] == plain.json()["page"] and "Accept-Encoding" in zipped.headers["vary"]
    html = await client.get(f"/status/{page['slug']}", headers={"Accept-Encoding": "gzip"})
    assert html.headers["content-encoding"] == "gzip" and "<main" in html.text
    # The HTML and the JSON of one snapshot are different representations: different tags.
    assert html.headers["etag"] != r.headers["etag"]
    again = await client.get(f"/status/{page['slug']}", headers={"If-None-Match": html.headers["etag"]})
    assert again.status_code == 304
    crossed = await client.get(f"{PUBLIC}/{page['slug']}", headers={"If-None-Match": html.headers["etag"]})
    assert crossed.status_code == 200 and crossed.json()["page"]["slug"] == page["slug"]


async def test_a_heartbeat_down_counts_as_downtime_not_100_percent(client, alice, db):
    import uuid

    from xinex.heartbeats import service as hb_service
    from xinex.heartbeats.jobs import sweep_due
    from xinex.kit.types import utcnow

    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly", "interval": 3600, "grace": 600},
                            headers=alice.bearer)).json()
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:  # its last ping was 3 hours ago
        await hb_service.record_ping(session, uuid.UUID(hb["id"]), hb_service.PingInput(kind="success"),
                                     now=utcnow() - timedelta(hours=3))

    async def down():  # the real sweeper (ours or the app's in-process one) flips it down: grace ran out
        await sweep_due(db, now=utcnow())
        r = await client.get(f"/api/v1/heartbeats/{hb['id']}", headers=alice.bearer)
        return r.json()["status"] == "down" or None

    assert await wait_for(down, timeout=15)
    page = await make_page(client, alice)
    comp = await make_component(client, alice, page["id"], name="Nightly", source_type="heartbeat",
                                source_id=hb["id"])
    snapshot.invalidate(db, page["slug"])
    component = (await _public(client, page["slug"]))["groups"][0]["components"][0]
    assert component["status"] == "major_outage"
    today = component["days"][-1]
    assert today["status"] == "major_outage" and today["uptime_pct"] is not None and today["uptime_pct"] < 100
    svg = (await client.get(f"/status/{page['slug']}/components/{comp['key']}/uptime.svg")).text
    assert "100%" not in svg and "100.0" not in svg


async def test_head_answers_like_get_on_every_public_read(client, alice, outsider):
    """HEAD works wherever GET does (link checkers, uptime probes, CDNs): same status and headers; the
    HTTP server drops the body. The operations stay single in the OpenAPI document."""
    page = await make_page(client, alice, name="Heads")
    comp = await make_component(client, alice, page["id"], name="API")
    slug = page["slug"]
    paths = [f"/status/{slug}", f"/status/{slug}/feed.atom", f"/status/{slug}/feed.rss", f"/status/{slug}/badge.svg",
             f"/status/{slug}/components/{comp['key']}/badge.svg",
             f"/status/{slug}/components/{comp['key']}/uptime.svg", f"{PUBLIC}/{slug}", f"{PUBLIC}/{slug}/incidents"]
    for path in paths:
        got, head = await client.get(path), await client.head(path)
        assert got.status_code == 200 and head.status_code == 200, (path, head.status_code)
        for name in ("content-type", "cache-control", "etag"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
    # Unknown page: HEAD is the same 404 as GET (the outsider's slug-less guess included).
    assert (await client.head("/status/no-such-page-here")).status_code == 404
    assert (await client.head(f"{PUBLIC}/no-such-page-here", headers=outsider.bearer)).status_code == 404
    spec = (await client.get("/openapi.json")).json()
    op = spec["paths"]["/api/v1/public/status-pages/{slug}"]
    assert "get" in op and "head" not in op


async def test_cors_on_public_pages_only(app, client, alice, db):
    """Public pages' read-only JSON carries `Access-Control-Allow-Origin: *` (never credentials) and answers a
    preflight; password and members-only pages get no CORS header and no preflight."""
    import httpx

    from tests.status_pages.conftest import set_tier

    await set_tier(db, alice.tenant_id, "pro")
    public = await make_page(client, alice, name="Open")
    secret = await make_page(client, alice, name="Locked", visibility="password", password="a long shared secret")
    staff = await make_page(client, alice, name="Staff", visibility="members")
    origin = {"Origin": "https://example.org"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as anon:
        for path in (f"{PUBLIC}/{public['slug']}", f"{PUBLIC}/{public['slug']}/incidents"):
            for method in ("GET", "HEAD"):
                r = await anon.request(method, path, headers=origin)
                assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*", (method, path)
                assert "access-control-allow-credentials" not in r.headers
            r = await anon.options(path, headers={**origin, "Access-Control-Request-Method": "GET",
                                                  "Access-Control-Request-Headers": "if-none-match"})
            assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "*"
            assert r.headers["access-control-allow-methods"] == "GET, HEAD"
            assert r.headers["access-control-allow-headers"].lower() == "if-none-match"
            assert "access-control-allow-credentials" not in r.headers
        r = await anon.post(f"{PUBLIC}/{secret['slug']}/unlock", json={"password": "a long shared secret"})
        assert r.status_code == 204
        for slug in (secret["slug"], staff["slug"], "no-such-page-here"):
            r = await anon.get(f"{PUBLIC}/{slug}", headers=origin)
            assert r.status_code in (200, 404) and "access-control-allow-origin" not in r.headers, slug
            r = await anon.options(f"{PUBLIC}/{slug}", headers={**origin, "Access-Control-Request-Method": "GET"})
            assert r.status_code == 404 and "access-control-allow-origin" not in r.headers, slug
        # The unlocked password page is readable with its cookie, still without CORS.
        assert (await anon.get(f"{PUBLIC}/{secret['slug']}")).status_code == 200
