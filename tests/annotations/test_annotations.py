"""Annotations CRUD: deploy markers from CI with an API token; filters; isolation; validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import assert_error

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


async def test_create_read_update_delete(client, alice, outsider):
    r = await client.post("/api/v1/annotations", headers=alice.bearer, json={
        "name": "deploy api v1.2.3", "description": "CI run 881", "time": iso(T0), "tags": ["deploy", "api"]})
    assert r.status_code == 201, r.text
    a = r.json()
    assert set(a) == {"id", "tenant_id", "name", "description", "time", "start", "end", "tags", "created_at",
                      "updated_at"}
    assert a["tenant_id"] == alice.tenant_id and a["time"] == a["start"] == "2026-03-01T12:00:00Z"
    assert a["end"] is None and a["tags"] == ["deploy", "api"] and a["created_at"].endswith("Z")
    url = f"/api/v1/annotations/{a['id']}"

    r = await client.get(url, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == a and r.headers["etag"]
    r = await client.put(url, headers=alice.bearer, json={"start": iso(T0), "end": iso(T0 + timedelta(minutes=30)),
                                                          "description": "rolled out in 30 min"})
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["end"] == "2026-03-01T12:30:00Z" and updated["name"] == a["name"]
    assert updated["description"] == "rolled out in 30 min" and updated["updated_at"] >= a["updated_at"]
    r = await client.put(url, headers={**alice.bearer, "If-Match": 'W/"stale"'}, json={"name": "x"})
    assert_error(r, 412, "PRECONDITION_FAILED")

    # Another tenant: exactly like a missing annotation.
    assert_error(await client.get(url, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.put(url, headers=outsider.bearer, json={"name": "mine now"}), 404, "NOT_FOUND")
    assert_error(await client.delete(url, headers=outsider.bearer), 404, "NOT_FOUND")
    listed = (await client.get("/api/v1/annotations", headers=outsider.bearer)).json()
    assert a["id"] not in [i["id"] for i in listed["items"]]

    r = await client.delete(url, headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(url, headers=alice.bearer), 404, "NOT_FOUND")


async def test_list_filters_and_envelope(client, signup):
    ci = await signup(scopes=["telemetry:write"])
    specs = [("deploy web 1", T0, None, ["deploy", "web"]), ("deploy api 7", T0 + timedelta(hours=1), None, ["deploy"]),
             ("incident window", T0 - timedelta(hours=2), T0 + timedelta(hours=3), ["incident"]),
             ("deploy_web 2", T0 + timedelta(days=3), None, ["deploy", "web"])]
    ids = {}
    for name, start, end, tags in specs:
        body = {"name": name, "start": iso(start), "tags": tags} | ({"end": iso(end)} if end else {})
        r = await client.post("/api/v1/annotations", headers=ci.bearer, json=body)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]

    page = (await client.get("/api/v1/annotations", headers=ci.bearer)).json()
    assert page["total"] == 4 and page["per_page"] == 25 and page["total_pages"] == 1
    assert [i["name"] for i in page["items"]][0] == "deploy_web 2"  # newest first

    def names(resp):
        return sorted(i["name"] for i in resp.json()["items"])

    # Time range: overlap, so a range that started earlier still shows.
    r = await client.get("/api/v1/annotations", headers=ci.bearer,
                         params={"from": iso(T0 + timedelta(minutes=30)), "to": iso(T0 + timedelta(hours=2))})
    assert names(r) == ["deploy api 7", "incident window"]
    # Name prefix: LIKE wildcards in the prefix are literal.
    assert names(await client.get("/api/v1/annotations", headers=ci.bearer, params={"name": "deploy "})) == \
        ["deploy api 7", "deploy web 1"]
    assert names(await client.get("/api/v1/annotations", headers=ci.bearer, params={"name": "deploy_"})) == \
        ["deploy_web 2"]
    r = await client.get("/api/v1/annotations", headers=ci.bearer, params=[("tag", "deploy"), ("tag", "web")])
    assert names(r) == ["deploy web 1", "deploy_web 2"]
    r = await client.get("/api/v1/annotations", headers=ci.bearer, params={"per_page": 2, "page": 2})
    assert r.json()["page"] == 2 and len(r.json()["items"]) == 2 and r.json()["total_pages"] == 2


async def test_validation(client, alice):
    cases = [
        {},  # no name
        {"name": "   "},
        {"name": "x" * 201},
        {"name": "d", "time": "yesterday"},
        {"name": "d", "time": iso(T0), "start": iso(T0)},
        {"name": "d", "start": iso(T0), "end": iso(T0 - timedelta(seconds=1))},
        {"name": "d", "tags": ["ok", ""]},
        {"name": "d", "tags": [f"t{i}" for i in range(21)]},
        {"name": "d", "tenant_id": alice.tenant_id},
    ]
    for body in cases:
        assert_error(await client.post("/api/v1/annotations", headers=alice.bearer, json=body), 422,
                     "VALIDATION_FAILED")
    r = await client.post("/api/v1/annotations", headers=alice.bearer, json={"name": "point", "time": iso(T0)})
    url = f"/api/v1/annotations/{r.json()['id']}"
    # An end before the stored start is refused even when only `end` is sent.
    body = assert_error(await client.put(url, headers=alice.bearer, json={"end": iso(T0 - timedelta(hours=1))}),
                        422, "VALIDATION_FAILED")
    assert "end" in body["details"]["fields"]
    assert_error(await client.get("/api/v1/annotations/not-a-uuid", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/annotations", headers=alice.bearer,
                                  params={"from": iso(T0), "to": iso(T0 - timedelta(days=1))}), 422, "VALIDATION_FAILED")


async def test_scopes_and_audit(client, signup, alice):
    reader = await signup(scopes=["telemetry:read"])
    assert (await client.get("/api/v1/annotations", headers=reader.bearer)).status_code == 200
    assert_error(await client.post("/api/v1/annotations", headers=reader.bearer, json={"name": "x"}), 403, "FORBIDDEN")
    assert_error(await client.post("/api/v1/annotations", json={"name": "x"}), 401, "UNAUTHENTICATED")
    r = await client.post("/api/v1/annotations", headers=alice.bearer, json={"name": "now marker"})
    assert r.status_code == 201
    created = datetime.fromisoformat(r.json()["time"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - created).total_seconds()) < 60  # no time given: now
    log = (await client.get("/api/v1/audit-log", headers=alice.bearer)).json()
    assert any(e["action"] == "annotation.created" and e["target_id"] == r.json()["id"] for e in log["items"])


async def test_times_without_offset_are_utc(client, alice, outsider):
    """Query and body times with no offset mean UTC (the list was a 500: naive compared with aware)."""
    r = await client.post("/api/v1/annotations", headers=alice.bearer,
                          json={"name": "naive point", "time": "2026-03-01T12:00:00"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["time"] == a["start"] == "2026-03-01T12:00:00Z"
    r = await client.post("/api/v1/annotations", headers=alice.bearer,
                          json={"name": "naive range", "start": "2026-03-01T13:00:00", "end": "2026-03-01T15:00:00+02:00"})
    assert r.status_code == 201, r.text
    rng = r.json()
    assert (rng["start"], rng["end"]) == ("2026-03-01T13:00:00Z", "2026-03-01T13:00:00Z")
    # end before start, once both are in UTC: 13:00Z vs 14:00+02:00 = 12:00Z.
    assert_error(await client.post("/api/v1/annotations", headers=alice.bearer, json={
        "name": "bad", "start": "2026-03-01T13:00:00", "end": "2026-03-01T14:00:00+02:00"}), 422, "VALIDATION_FAILED")

    url = f"/api/v1/annotations/{a['id']}"
    r = await client.put(url, headers=alice.bearer, json={"start": "2026-03-01T11:00:00", "end": "2026-03-01T11:30:00"})
    assert r.status_code == 200, r.text
    assert (r.json()["start"], r.json()["end"]) == ("2026-03-01T11:00:00Z", "2026-03-01T11:30:00Z")
    # Only `end`, naive, compared with the stored (aware) start.
    body = assert_error(await client.put(url, headers=alice.bearer, json={"end": "2026-03-01T10:00:00"}),
                        422, "VALIDATION_FAILED")
    assert "end" in body["details"]["fields"]
    assert_error(await client.put(url, headers=outsider.bearer, json={"time": "2026-03-01T12:00:00"}),
                 404, "NOT_FOUND")

    async def names(who=alice, **params):
        r = await client.get("/api/v1/annotations", headers=who.bearer, params={"name": "naive ", **params})
        assert r.status_code == 200, r.text
        return sorted(i["name"] for i in r.json()["items"])

    assert await names(**{"from": "2026-03-01T11:15:00", "to": "2026-03-01T12:00:00Z"}) == ["naive point"]
    assert await names(**{"from": "2026-03-01T11:45:00", "to": "2030-01-01T00:00:00Z"}) == ["naive range"]
    assert await names(**{"from": "2026-03-01T13:00:00+02:00"}) == ["naive point", "naive range"]
    assert await names(**{"to": "2026-03-01T10:59:59"}) == []
    assert await names(outsider, **{"from": "2026-03-01T00:00:00", "to": "2026-03-02T00:00:00Z"}) == []
    assert_error(await client.get("/api/v1/annotations", headers=alice.bearer,
                                  params={"from": "2026-03-01T12:00:00", "to": "2026-03-01T11:00:00Z"}),
                 422, "VALIDATION_FAILED")


async def test_nul_character_is_a_validation_error(client, alice, outsider):
    """PostgreSQL refuses NUL in text/JSON: each field carrying one is a 422 naming it (was a 500)."""
    for body, field in [({"name": "a\u0000b"}, "name"), ({"name": "ok", "description": "x\u0000"}, "description"),
                        ({"name": "ok", "tags": ["fine", "t\u0000"]}, "tags")]:
        err = assert_error(await client.post("/api/v1/annotations", headers=alice.bearer, json=body),
                           422, "VALIDATION_FAILED")
        assert "NUL" in err["details"]["fields"][field], err
    r = await client.post("/api/v1/annotations", headers=alice.bearer,
                          json={"name": "nul-test marker", "tags": ["nul-test"]})
    assert r.status_code == 201, r.text
    url = f"/api/v1/annotations/{r.json()['id']}"
    for body, field in [({"name": "b\u0000"}, "name"), ({"description": "\u0000"}, "description"),
                        ({"tags": ["\u0000"]}, "tags")]:
        err = assert_error(await client.put(url, headers=alice.bearer, json=body), 422, "VALIDATION_FAILED")
        assert "NUL" in err["details"]["fields"][field], err
    for params, field in [({"name": "a\u0000"}, "name"), ([("tag", "nul-test"), ("tag", "a\u0000")], "tag")]:
        err = assert_error(await client.get("/api/v1/annotations", headers=alice.bearer, params=params),
                           422, "VALIDATION_FAILED")
        assert "NUL" in err["details"]["fields"][field], err
    # Nothing was changed or stored; the outsider still sees nothing of alice's.
    r = await client.get("/api/v1/annotations", headers=alice.bearer, params={"tag": "nul-test"})
    [item] = r.json()["items"]
    assert item["name"] == "nul-test marker" and item["description"] == "" and item["tags"] == ["nul-test"]
    assert (await client.get("/api/v1/annotations", headers=outsider.bearer, params={"tag": "nul-test"})
            ).json()["total"] == 0
    assert_error(await client.put(url, headers=outsider.bearer, json={"name": "x"}), 404, "NOT_FOUND")
