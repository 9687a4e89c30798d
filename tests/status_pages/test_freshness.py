"""The public JSON's snapshot: an unchanged page is not rebuilt per read (only its sources' states are asked),
and a heartbeat's status change is on the JSON promptly, through the same process's cache."""

from __future__ import annotations

from xinex.status_pages import snapshot

from tests.conftest import assert_error
from tests.status_pages.conftest import PUBLIC, make_component, make_page, wait_for


async def _status(client, slug: str, key: str) -> str:
    r = await client.get(f"{PUBLIC}/{slug}")
    assert r.status_code == 200, r.text
    return next(c["status"] for g in r.json()["groups"] for c in g["components"] if c["key"] == key)


async def test_unchanged_page_is_not_rebuilt_and_a_change_shows_promptly(client, alice, outsider, db, monkeypatch):
    builds: list[str] = []
    real_build = snapshot.build

    async def counted(db_, slug_):
        builds.append(slug_)
        return await real_build(db_, slug_)

    monkeypatch.setattr(snapshot, "build", counted)
    monkeypatch.setattr(snapshot, "CACHE_TTL_S", 0.0)  # every read checks freshness
    monkeypatch.setattr(snapshot, "REBUILD_EVERY_S", 3600.0)  # and only a change may rebuild
    page = await make_page(client, alice)
    hb = (await client.post("/api/v1/heartbeats", json={"name": "nightly"}, headers=alice.bearer)).json()
    comp = await make_component(client, alice, page["id"], name="Nightly", source_type="heartbeat",
                                source_id=hb["id"])
    await make_component(client, alice, page["id"], name="Phones")
    slug = page["slug"]
    assert await _status(client, slug, comp["key"]) == "operational"
    first = await client.get(f"{PUBLIC}/{slug}")
    builds.clear()
    for _ in range(20):
        r = await client.get(f"{PUBLIC}/{slug}")
        assert r.status_code == 200 and r.headers["etag"] == first.headers["etag"] and r.content == first.content
    async def settled() -> bool:
        return not snapshot._INFLIGHT
    await wait_for(settled)
    assert builds == []  # twenty reads, each past the freshness window, no rebuild: nothing changed

    ping = hb["ping_url"].rsplit("/", 1)[1]
    assert (await client.post(f"/ping/{ping}/fail")).status_code == 200
    async def shows(want: str) -> bool:
        return await _status(client, slug, comp["key"]) == want
    await wait_for(lambda: shows("major_outage"))
    assert builds  # the change rebuilt it
    changed = await client.get(f"{PUBLIC}/{slug}")
    assert changed.headers["etag"] != first.headers["etag"]
    assert (await client.get(f"{PUBLIC}/{slug}", headers={"If-None-Match": changed.headers["etag"]})).status_code == 304
    assert (await client.post(f"/ping/{ping}")).status_code == 200
    await wait_for(lambda: shows("operational"))

    # The outsider's own view of the page's admin side stays closed.
    assert_error(await client.get(f"/api/v1/status-pages/{page['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
