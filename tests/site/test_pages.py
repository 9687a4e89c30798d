"""The landing page and the API docs work with no internet: every asset they load is served by us."""

from __future__ import annotations

import re

from tests.conftest import assert_error


async def test_docs_pages_load_only_local_assets(client):
    for path in ("/docs", "/redoc"):
        page = await client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(r"url: ?'([^']+)'", page.text)
        assert urls, page.text
        # No CDN (jsdelivr, unpkg, Google Fonts): every URL is ours, relative to this server.
        assert all(u.startswith("/") for u in urls), urls
        for url in urls:
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
    # Nor does any script they load fetch from a CDN at run time (ReDoc's bundle names its logo's).
    for script in ("/docs/assets/redoc.standalone.js", "/docs/assets/swagger-ui-bundle.js"):
        assert b"cdn." not in (await client.get(script)).content, script
    js = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/docs/assets/../../settings.py")).status_code == 404
    assert (await client.get("/docs/assets/nothing.js")).status_code == 404
    spec = (await client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Xinex API"


async def test_landing_page_points_a_newcomer_at_the_docs(client):
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
    assert 'href="/docs"' in page.text and "/api/v1/auth/register" in page.text
    # The API keeps its own 404s: the landing page shadows nothing.
    assert_error(await client.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")
