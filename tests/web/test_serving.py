"""The web app at `/`: index.html no-cache, hashed assets cached for a year, an SPA fallback for the app's own
paths (the links in our e-mails among them) that never shadows the server's surfaces, and a clear page when
the app was not built."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error

INDEX = "<!doctype html><html><head><title>Xinex</title></head><body><div id=root></div></body></html>"


@pytest.fixture
def dist(tmp_path, monkeypatch):
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-AbC123.js").write_text("console.log('app')")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    monkeypatch.setenv("XINEX_WEB_DIST", str(root))
    return root


async def test_app_pages_answer_index_html_without_caching(client, dist):
    # The app's routes, including every link our e-mails and redirects point at.
    for path in ("/", "/login", "/signup", "/incidents/8c7d2a4e-0000-4000-8000-000000000000", "/heartbeats/new",
                 "/register/confirm?token=abc", "/verify-email?token=abc", "/reset-password?token=abc",
                 "/invitations/accept?token=abc", "/notification-channels/x", "/statuspage-later", "/apis"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert page.text == INDEX, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert page.headers["cache-control"] == "no-cache", path


async def test_hashed_assets_are_cached_for_a_year_and_missing_ones_are_404(client, dist):
    js = await client.get("/assets/index-AbC123.js")
    assert js.status_code == 200 and js.text == "console.log('app')"
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in js.headers["content-type"]
    for path in ("/assets/index-Missing.js", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/%2e%2e/index.html",
                 "/assets/", "/assets"):
        missing = await client.get(path, follow_redirects=True)
        assert missing.status_code == 404, path
        assert "outside the build" not in missing.text and INDEX not in missing.text, path
    icon = await client.get("/favicon.svg")
    assert icon.status_code == 200 and icon.text == "<svg/>"
    # Only files inside the build are served; a file name the build lacks is a 404, not the app's HTML.
    for path in ("/secret.txt", "/favicon.ico", "/robots.txt"):
        missing = await client.get(path)
        assert missing.status_code == 404, path
        assert INDEX not in missing.text and "outside the build" not in missing.text, path


async def test_head_answers_like_get_without_a_body(client, dist):
    for path in ("/", "/login", "/incidents/8c7d2a4e-0000-4000-8000-000000000000", "/assets/index-AbC123.js",
                 "/favicon.svg"):
        got, head = await client.get(path), await client.head(path)
        assert head.status_code == 200, path
        assert head.content == b"", path
        assert head.headers["content-type"] == got.headers["content-type"], path
        assert head.headers["cache-control"] == got.headers["cache-control"], path
    assert (await client.head("/favicon.ico")).status_code == 404


async def test_the_apps_html_cannot_be_framed(client, dist, tmp_path, monkeypatch):
    for path in ("/", "/login", "/incidents/x"):
        for page in (await client.get(path), await client.head(path)):
            assert page.headers["x-frame-options"] == "DENY", path
            assert page.headers["content-security-policy"] == "frame-ancestors 'none'", path
    monkeypatch.setenv("XINEX_WEB_DIST", str(tmp_path / "nothing-here"))
    assert (await client.get("/")).headers["x-frame-options"] == "DENY"


async def test_the_fallback_never_shadows_the_servers_own_surfaces(client, dist):
    assert_error(await client.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")
    assert_error(await client.get("/api"), 404, "NOT_FOUND")
    # A wrong method on an API route keeps its 405 (the fallback does not claim GET on it).
    assert_error(await client.get("/api/v1/auth/login"), 405, "METHOD_NOT_ALLOWED")
    for path in ("/oauth/nothing", "/sso/x", "/status/x", "/health/x", "/.well-known/nothing", "/docs/nothing",
                 "/redoc/x"):
        answer = await client.get(path)
        assert answer.status_code == 404, path
        assert INDEX not in answer.text, path
    assert (await client.get("/ping/not-a-uuid")).text != INDEX
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "Xinex API"
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert (await client.get("/redoc")).status_code == 200
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/.well-known/oauth-authorization-server")).status_code == 200


async def test_without_a_build_the_root_says_how_to_build_it(client, tmp_path, monkeypatch):
    monkeypatch.setenv("XINEX_WEB_DIST", str(tmp_path / "nothing-here"))
    for path in ("/", "/incidents"):
        page = await client.get(path)
        assert page.status_code == 503 and page.headers["cache-control"] == "no-cache"
        assert "make install" in page.text and "npm ci" in page.text and 'href="/docs"' in page.text
    assert_error(await client.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")
