"""The API docs work with no internet: every asset they load is served by us."""

from __future__ import annotations

import re


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
    # A path out of the assets folder serves no file of ours (httpx resolves it to /settings.py: the app).
    assert b"pydantic" not in (await client.get("/docs/assets/../../settings.py")).content
    assert (await client.get("/docs/assets/nothing.js")).status_code == 404
    spec = (await client.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Xinex API"

