"""Custom domains: a request whose Host is a page's custom domain is served that page at `/` (HTML, feeds,
events, badges, its JSON), nothing else of the app; the app's own host is never shadowed."""

from __future__ import annotations

import uuid

import httpx
from xinex.status_pages import domains

from tests.conftest import assert_error
from tests.realtime.conftest import serve
from tests.status_pages.conftest import BASE, PUBLIC, make_page, set_tier


def _domain() -> str:
    return f"status.{uuid.uuid4().hex[:8]}.example.com"


async def test_a_custom_domain_serves_its_page_at_the_root(app, client, alice, outsider, db):
    await set_tier(db, alice.tenant_id, "pro")
    domain = _domain()
    page = await make_page(client, alice, name="Acme status", custom_domain=domain)
    other = await make_page(client, alice, name="Other page")
    assert page["cname_instruction"] == f"CNAME {domain} -> 127.0.0.1"
    host = {"Host": domain}

    r = await client.get("/", headers=host)
    assert r.status_code == 200 and "<h1>Acme status</h1>" in r.text, r.text[:300]
    # Links stay on the custom domain (relative: the operator's proxy terminates TLS).
    assert 'action="/subscribe"' in r.text and 'href="/feed.atom"' in r.text
    assert f'href="/api/v1/public/status-pages/{page["slug"]}"' in r.text
    assert r.headers["etag"] and r.headers["cache-control"] == "public, max-age=1"
    atom = await client.get("/feed.atom", headers=host)
    assert atom.status_code == 200 and f"http://{domain}" in atom.text and "/status/" not in atom.text
    assert (await client.get("/feed.rss", headers=host)).status_code == 200
    assert (await client.get("/badge.svg", headers=host)).headers["content-type"].startswith("image/svg+xml")
    assert (await client.head("/", headers=host)).status_code == 200
    data = await client.get(f"{PUBLIC}/{page['slug']}", headers=host)
    assert data.status_code == 200 and data.json()["page"]["name"] == "Acme status"
    async with serve(app) as addr, httpx.AsyncClient(base_url=f"http://{addr}", timeout=10) as real:
        async with real.stream("GET", "/events", headers=host) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    assert line == "event: hello"
                    break
    # Nothing else of the app is served on a customer's domain: no API, no sign-in, no other page.
    assert_error(await client.get("/api/v1/me", headers={**host, **alice.bearer}), 404, "NOT_FOUND")
    assert_error(await client.get("/login", headers=host), 404, "NOT_FOUND")
    assert_error(await client.get(f"{PUBLIC}/{other['slug']}", headers=host), 404, "NOT_FOUND")
    assert_error(await client.get(f"/status/{other['slug']}", headers=host), 404, "NOT_FOUND")
    # A host that names no page, and the app's own host, are the app as always.
    assert (await client.get(f"/status/{page['slug']}", headers={"Host": _domain()})).status_code == 200
    assert (await client.get("/api/v1/me", headers={"Host": "127.0.0.1:8000", **alice.bearer})).status_code == 200

    # The domain names one page across tenants: 409, also for another tenant.
    r = await client.post(BASE, json={"name": "x", "slug": f"sp-{uuid.uuid4().hex[:8]}", "custom_domain": domain},
                          headers=outsider.bearer)
    assert_error(r, 409, "CONFLICT")
    # The app's own host is never a page's.
    r = await client.put(f"{BASE}/{other['id']}", json={"name": "x", "slug": other["slug"],
                                                       "custom_domain": "localhost.example"}, headers=alice.bearer)
    assert r.status_code == 200
    # Moving the domain away takes effect at once in this process (the cache is cleared after commit).
    r = await client.put(f"{BASE}/{page['id']}", json={"name": "Acme status", "slug": page["slug"]},
                         headers=alice.bearer)
    assert r.status_code == 200 and r.json()["custom_domain"] is None
    r = await client.get("/", headers=host)
    assert "<h1>Acme status</h1>" not in r.text


async def test_the_app_host_is_never_shadowed(app, client, alice, db, monkeypatch):
    own = _domain()
    page = await make_page(client, alice, custom_domain=own)
    from xinex.settings import get_settings

    monkeypatch.setattr(app.state.settings, "public_url", f"https://{own}")
    domains.forget()
    # Served as the app, not as the page: the API answers.
    r = await client.get("/api/v1/me", headers={"Host": own, **alice.bearer})
    assert r.status_code == 200, r.text
    # And no page may take the app's host.
    monkeypatch.setattr(get_settings(), "public_url", f"https://{own}")
    r = await client.put(f"{BASE}/{page['id']}", json={"name": "x", "slug": page["slug"], "custom_domain": own},
                         headers=alice.bearer)
    assert_error(r, 422, "VALIDATION_FAILED")
