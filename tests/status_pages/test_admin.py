"""The status-page admin API: CRUD of pages, groups and components, outsider 404, the plan's limit,
audit records, derived status and manual override."""

from __future__ import annotations

import uuid

from tests.conftest import assert_error
from tests.status_pages.conftest import BASE, make_component, make_page, set_tier, slug


async def test_page_crud_contract_outsider_and_audit(client, alice, outsider, db):
    page = await make_page(client, alice, description="Our services", custom_domain="status.acme.com")
    assert page["public_url"].endswith(f"/status/{page['slug']}")
    assert page["cname_instruction"].startswith("CNAME status.acme.com -> ")
    assert page["visibility"] == "public" and page["has_password"] is False
    pid = page["id"]
    r = await client.get(f"{BASE}/{pid}", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["name"] == "Acme status"
    etag = r.headers["etag"]
    listed = (await client.get(BASE, headers=alice.bearer)).json()
    assert [p["id"] for p in listed["items"]] == [pid] and listed["total"] == 1

    # Another tenant sees nothing and can change nothing.
    for method in ("GET", "PUT", "DELETE"):
        kw = {"json": {"name": "x", "slug": slug()}} if method == "PUT" else {}
        assert_error(await client.request(method, f"{BASE}/{pid}", headers=outsider.bearer, **kw), 404, "NOT_FOUND")
    assert (await client.get(BASE, headers=outsider.bearer)).json()["total"] == 0
    assert_error(await client.get(f"{BASE}/{pid}/components", headers=outsider.bearer), 404, "NOT_FOUND")

    # PUT replaces; a stale If-Match is 412; the slug is unique across tenants.
    body = {"name": "Acme", "slug": page["slug"], "brand_color": "#112233", "past_incident_days": 30}
    r = await client.put(f"{BASE}/{pid}", json=body, headers={**alice.bearer, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["brand_color"] == "#112233" and r.json()["custom_domain"] is None
    assert_error(await client.put(f"{BASE}/{pid}", json=body, headers={**alice.bearer, "If-Match": etag}),
                 412, "PRECONDITION_FAILED")
    r = await client.post(BASE, json={"name": "copycat", "slug": page["slug"]}, headers=outsider.bearer)
    assert_error(r, 409, "CONFLICT")

    actions = [e["action"] for e in (await client.get("/api/v1/audit-log", headers=alice.bearer)).json()["items"]]
    assert "status_page.created" in actions and "status_page.updated" in actions
    assert (await client.delete(f"{BASE}/{pid}", headers=alice.bearer)).status_code == 204
    assert_error(await client.get(f"{BASE}/{pid}", headers=alice.bearer), 404, "NOT_FOUND")


async def test_bad_input_is_422_never_500(client, alice):
    for bad in ({"name": "x", "slug": "Not A Slug"}, {"name": "x", "slug": "-a"}, {"name": "", "slug": slug()},
                {"name": "x", "slug": slug(), "brand_color": "red"}, {"name": "x\u0000", "slug": slug()},
                {"name": "x", "slug": slug(), "visibility": "password"},
                {"name": "x", "slug": slug(), "password": "long enough pass"},
                {"name": "x", "slug": slug(), "time_zone": "Mars/Olympus"},
                {"name": "x", "slug": "events"}, {"name": "x", "slug": slug(), "logo_url": "ftp://x"},
                {"name": "x", "slug": slug(), "custom_domain": "not a domain"}):
        assert_error(await client.post(BASE, json=bad, headers=alice.bearer), 422, "VALIDATION_FAILED")
    # Too long a string is counted in characters, not "items".
    for field, limit in (("name", 200), ("description", 2000)):
        r = await client.post(BASE, json={"name": "x", "slug": slug(), field: "y" * (limit + 1)}, headers=alice.bearer)
        body = assert_error(r, 422, "VALIDATION_FAILED")
        assert body["details"]["fields"][field] == f"String should have at most {limit} characters"


async def test_tier_limit_status_pages(client, signup, db):
    account = await signup()  # the free plan: one page
    await make_page(client, account)
    r = await client.post(BASE, json={"name": "second", "slug": slug()}, headers=account.bearer)
    body = assert_error(r, 403, "TIER_LIMIT_EXCEEDED")
    assert body["details"]["limit"] == "status_pages" and body["details"]["tier_limit"] == 1
    await set_tier(db, account.tenant_id, "pro")
    await make_page(client, account)


async def test_groups_and_components_both_paths_outsider_and_override(client, alice, outsider):
    page = await make_page(client, alice)
    pid = page["id"]
    r = await client.post("/api/v1/status/groups", json={"page_id": pid, "name": "API", "position": 1},
                          headers=alice.bearer)
    assert r.status_code == 201, r.text
    group = r.json()
    r = await client.post(f"{BASE}/{pid}/groups", json={"name": "Web"}, headers=alice.bearer)
    assert r.status_code == 201 and r.json()["page_id"] == pid
    groups = (await client.get(f"/api/v1/status/groups?page_id={pid}", headers=alice.bearer)).json()
    assert [g["name"] for g in groups["items"]] == ["Web", "API"]

    manual = await make_component(client, alice, pid, name="Support", group_id=group["id"])
    assert manual["status"] == "operational" and manual["source_type"] == "manual" and len(manual["key"]) >= 8
    r = await client.put(f"/api/v1/status/components/{manual['id']}", headers=alice.bearer,
                         json={"name": "Support", "group_id": group["id"], "status_override": "partial_outage"})
    assert r.status_code == 200 and r.json()["status"] == "partial_outage"

    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly"}, headers=alice.bearer)).json()
    r = await client.post("/api/v1/status/components", headers=alice.bearer,
                          json={"page_id": pid, "name": "Nightly job", "source_type": "heartbeat",
                                "source_id": hb["id"]})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "operational"  # a new heartbeat has no verdict yet

    # Sources and groups of another tenant are as unknown as missing ones.
    other_hb = (await client.post("/api/v1/heartbeats", json={"name": "theirs"}, headers=outsider.bearer)).json()
    for body in ({"source_type": "heartbeat", "source_id": other_hb["id"]},
                 {"source_type": "monitor", "source_id": str(uuid.uuid4())},
                 {"source_type": "monitor"}, {"source_type": "manual", "source_id": hb["id"]},
                 {"group_id": str(uuid.uuid4())}, {"status_override": "on fire"}):
        r = await client.post(f"{BASE}/{pid}/components", json={"name": "x", **body}, headers=alice.bearer)
        assert_error(r, 422, "VALIDATION_FAILED")
    for path in (f"/api/v1/status/components/{manual['id']}", f"/api/v1/status/groups/{group['id']}"):
        assert_error(await client.get(path, headers=outsider.bearer), 404, "NOT_FOUND")
        assert_error(await client.delete(path, headers=outsider.bearer), 404, "NOT_FOUND")
    r = await client.post("/api/v1/status/components", json={"page_id": pid, "name": "x"}, headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")
    assert (await client.get("/api/v1/status/components", headers=outsider.bearer)).json()["total"] == 0

    # Deleting a group keeps its components, outside any group.
    assert (await client.delete(f"/api/v1/status/groups/{group['id']}", headers=alice.bearer)).status_code == 204
    r = await client.get(f"/api/v1/status/components/{manual['id']}", headers=alice.bearer)
    assert r.json()["group_id"] is None
    actions = [e["action"] for e in (await client.get("/api/v1/audit-log?action=status_page",
                                                      headers=alice.bearer)).json()["items"]]
    assert {"status_page.component_created", "status_page.component_updated", "status_page.group_deleted"} <= set(actions)


async def test_read_only_token_cannot_write(client, signup):
    account = await signup(scopes=["statuspages:read"])
    assert (await client.get(BASE, headers=account.bearer)).status_code == 200
    r = await client.post(BASE, json={"name": "x", "slug": slug()}, headers=account.bearer)
    assert_error(r, 403, "FORBIDDEN")


async def test_logo_url_pattern_enforced_and_custom_domain_case_folded(client, alice, outsider):
    bad = "https://example.com/l.png?a=\"><script>alert(9)</script>"
    body = assert_error(await client.post(BASE, json={"name": "Logo", "slug": slug(), "logo_url": bad},
                                          headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert "logo_url" in body["details"]["fields"]
    domain = f"Status-{uuid.uuid4().hex[:6]}.Acme.TEST."
    r = await client.post(BASE, json={"name": "Domain", "slug": slug(), "custom_domain": domain,
                                      "logo_url": "https://cdn.example.com/logo.png?v=2"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    assert r.json()["custom_domain"] == domain.lower().rstrip(".")
    assert_error(await client.get(f"{BASE}/{r.json()['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
