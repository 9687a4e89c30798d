"""Status-page incidents: updates in the four states appear on the public JSON, the HTML page, the event
stream (a real uvicorn server) and the Atom/RSS feeds; outsiders get 404."""

from __future__ import annotations

import asyncio
import json
import uuid
from xml.etree import ElementTree

import httpx

from tests.conftest import assert_error
from tests.realtime.conftest import serve
from tests.status_pages.conftest import BASE, PUBLIC, make_component, make_page, wait_for

STATES = ("investigating", "identified", "monitoring", "resolved")


async def _events(addr: str, slug: str, sink: list, ready: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=f"http://{addr}", timeout=30) as c:
        async with c.stream("GET", f"/status/{slug}/events") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            event = None
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    sink.append((event, json.loads(line[6:])))
                    if event == "hello":
                        ready.set()


async def test_four_states_on_json_html_sse_and_feeds(app, client, alice, outsider):
    page = await make_page(client, alice)
    comp = await make_component(client, alice, page["id"], name="Checkout")
    slug = page["slug"]
    events: list = []
    ready = asyncio.Event()
    async with serve(app) as addr:
        reader = asyncio.create_task(_events(addr, slug, events, ready))
        try:
            await asyncio.wait_for(asyncio.shield(ready.wait()), 10)
            assert events[0] == ("hello", {"status": "operational", "description": "All systems operational"})

            r = await client.post(f"{BASE}/{page['id']}/incidents", headers=alice.bearer, json={
                "title": "Checkout failing", "impact": "critical", "message": "We are looking into failed payments.",
                "components": [{"component_id": comp["id"], "impact": "major_outage"}]})
            assert r.status_code == 201, r.text
            inc = r.json()
            assert inc["status"] == "investigating" and len(inc["updates"]) == 1

            async def created():
                return [d for e, d in events if e == "incident.created" and d["status"] == "investigating"]

            [first] = await wait_for(created, timeout=10)
            assert first["updates"][0]["message"] == "We are looking into failed payments."
            path = f"{BASE}/{page['id']}/incidents/{inc['id']}"
            assert_error(await client.get(path, headers=outsider.bearer), 404, "NOT_FOUND")
            assert_error(await client.post(f"{path}/updates", headers=outsider.bearer,
                                           json={"status": "resolved", "message": "x"}), 404, "NOT_FOUND")
            assert_error(await client.post(f"{BASE}/{page['id']}/incidents", headers=outsider.bearer,
                                           json={"title": "x", "message": "y"}), 404, "NOT_FOUND")

            for state in STATES[1:]:
                r = await client.post(f"{path}/updates", headers=alice.bearer,
                                      json={"status": state, "message": f"Now {state}: step {state}."})
                assert r.status_code == 201, r.text
                assert r.json()["status"] == state
                if state != "resolved":
                    data = (await client.get(f"{PUBLIC}/{slug}")).json()
                    [public] = [i for i in data["incidents"] if i["title"] == "Checkout failing"]
                    assert public["status"] == state and public["updates"][0]["message"] == f"Now {state}: step {state}."
                    assert public["components"] == [{"key": comp["key"], "name": "Checkout", "impact": "major_outage"}]
                    assert data["status"]["status"] == "major_outage"
                    html = (await client.get(f"/status/{slug}")).text
                    assert f"Now {state}: step {state}." in html and "Checkout failing" in html

                async def seen(state=state):
                    names = [e for e, d in events if isinstance(d, dict) and d.get("status") == state
                             and d.get("title") == "Checkout failing"]
                    return names

                names = await wait_for(seen, timeout=10)
                assert names[-1] == ("incident.resolved" if state == "resolved" else "incident.updated")
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    kinds = [e for e, _ in events]
    assert "incident.created" in kinds and "component.status_changed" in kinds
    changes = [d for e, d in events if e == "component.status_changed"]
    assert changes[0] == {"key": comp["key"], "name": "Checkout", "status": "major_outage", "previous": "operational"}
    assert changes[-1]["status"] == "operational"

    data = (await client.get(f"{PUBLIC}/{slug}")).json()
    assert data["incidents"] == [] and data["status"]["status"] == "operational"
    [past] = data["past_incidents"]
    assert [u["status"] for u in past["updates"]] == list(reversed(STATES))
    html = (await client.get(f"/status/{slug}")).text
    assert "Past incidents" in html and "Now resolved: step resolved." in html

    atom = ElementTree.fromstring((await client.get(f"/status/{slug}/feed.atom")).content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    [entry] = atom.findall("a:entry", ns)
    assert entry.find("a:title", ns).text == "Checkout failing (resolved)"
    content = entry.find("a:content", ns).text
    assert all(f"Now {s}: step {s}." in content for s in STATES[1:]) and "failed payments" in content
    rss = ElementTree.fromstring((await client.get(f"/status/{slug}/feed.rss")).content)
    [item] = rss.findall("./channel/item")
    assert item.find("title").text == "Checkout failing (resolved)"
    assert "Now identified: step identified." in item.find("description").text

    history = (await client.get(f"{PUBLIC}/{slug}/incidents", params={"per_page": 1})).json()
    assert history["total"] == 1 and history["items"][0]["status"] == "resolved"


async def test_incident_input_and_links(client, alice):
    page = await make_page(client, alice)
    base = f"{BASE}/{page['id']}/incidents"
    for bad in ({"title": "x"}, {"title": "", "message": "m"}, {"title": "x", "message": "m", "status": "fixed"},
                {"title": "x", "message": "m", "components": [{"component_id": str(uuid.uuid4())}]},
                {"title": "x", "message": "m", "linked_incident_id": str(uuid.uuid4())}):
        assert_error(await client.post(base, json=bad, headers=alice.bearer), 422, "VALIDATION_FAILED")
    r = await client.post(base, json={"title": "x" * 301, "message": "m"}, headers=alice.bearer)
    body = assert_error(r, 422, "VALIDATION_FAILED")
    assert body["details"]["fields"]["title"] == "String should have at most 300 characters"
    # Without an impact an incident is minor (docs/status-pages.md).
    r = await client.post(base, json={"title": "Default", "message": "m"}, headers=alice.bearer)
    assert r.status_code == 201 and r.json()["impact"] == "minor"
    r = await client.post(base, json={"title": "Planned", "message": "m", "impact": "none"}, headers=alice.bearer)
    inc = r.json()
    r = await client.patch(f"{base}/{inc['id']}", json={"title": "Renamed"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    assert (await client.delete(f"{base}/{inc['id']}", headers=alice.bearer)).status_code == 204
    assert_error(await client.get(f"{base}/{inc['id']}", headers=alice.bearer), 404, "NOT_FOUND")


async def test_a_stream_ends_when_its_reader_loses_access(app, client, alice):
    """A page made members-only while an anonymous stream is open: the next incident is not sent to it,
    the stream ends (EventSource reconnects, and the reconnection is refused)."""
    page = await make_page(client, alice)
    slug = page["slug"]
    events: list = []
    ready = asyncio.Event()
    async with serve(app) as addr:
        reader = asyncio.create_task(_events(addr, slug, events, ready))
        try:
            await asyncio.wait_for(asyncio.shield(ready.wait()), 10)
            current = await client.get(f"{BASE}/{page['id']}", headers=alice.bearer)
            body = {k: v for k, v in current.json().items() if k in ("name", "slug")}
            r = await client.put(f"{BASE}/{page['id']}", headers={**alice.bearer, "If-Match": current.headers["etag"]},
                                 json={**body, "visibility": "members"})
            assert r.status_code == 200, r.text
            assert_error(await client.get(f"{PUBLIC}/{slug}"), 404, "NOT_FOUND")
            r = await client.post(f"{BASE}/{page['id']}/incidents", headers=alice.bearer,
                                  json={"title": "Members-only incident", "message": "internal only"})
            assert r.status_code == 201, r.text
            await asyncio.wait_for(reader, 10)  # the stream ended on its own
        finally:
            reader.cancel()
    assert [e for e, _ in events] == ["hello"]
    assert "internal only" not in json.dumps(events)


async def test_rss_carries_incident_text_escaped_for_html(client, alice):
    """RSS readers render <description> as HTML: the tenant's text arrives as text, never as markup."""
    page = await make_page(client, alice)
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)> a < b & c"
    r = await client.post(f"{BASE}/{page['id']}/incidents", headers=alice.bearer,
                          json={"title": "Markup", "message": evil})
    assert r.status_code == 201, r.text
    rss = ElementTree.fromstring((await client.get(f"/status/{page['slug']}/feed.rss")).content)
    [item] = rss.findall("./channel/item")
    description = item.find("description").text  # the HTML a reader renders, after XML decoding
    assert "<script>" not in description and "<img" not in description
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in description and "a &lt; b &amp; c" in description
    assert item.find("{http://purl.org/rss/1.0/modules/content/}encoded") is None
