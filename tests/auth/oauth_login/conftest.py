"""Fixtures for OAuth login: the local provider, the app's settings pointed at it, and a driver
that walks the browser's part of the flow by hand (app → provider → app)."""

from __future__ import annotations

import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from tests.auth.oauth_login.provider import LocalProvider

CLIENTS = {"google": "google-client", "microsoft": "microsoft-client", "apple": "com.xinex.web",
           "github": "github-client"}


@pytest.fixture(scope="session")
def oidc_provider():
    provider = LocalProvider().start()
    provider.clients = {cid: f"{name}-secret" for name, cid in CLIENTS.items()}
    yield provider
    provider.stop()


@pytest.fixture(autouse=True)
def oauth_settings(app, oidc_provider):
    """The app reads provider settings from app.state.settings: point them at the local provider,
    and put every value back afterwards."""
    s = app.state.settings
    p = oidc_provider
    values = {
        "oauth_google_client_id": CLIENTS["google"], "oauth_google_client_secret": "google-secret",
        "oauth_google_metadata_url": p.metadata_url("google"),
        "oauth_microsoft_client_id": CLIENTS["microsoft"], "oauth_microsoft_client_secret": "microsoft-secret",
        "oauth_microsoft_metadata_url": p.metadata_url("microsoft"),
        "oauth_apple_client_id": CLIENTS["apple"], "oauth_apple_client_secret": "apple-secret",
        "oauth_apple_metadata_url": p.metadata_url("apple"),
        "oauth_apple_jwks_url": f"{p.issuer('apple')}/jwks", "oauth_apple_issuer": p.issuer("apple"),
        "oauth_github_client_id": CLIENTS["github"], "oauth_github_client_secret": "github-secret",
        "oauth_github_authorize_url": f"{p.base_url}/login/oauth/authorize",
        "oauth_github_token_url": f"{p.base_url}/login/oauth/access_token",
        "oauth_github_api_url": p.base_url,
    }
    # Tests may also tighten the sign-in rate limit; it is put back too.
    saved = {k: getattr(s, k) for k in [*values, "rate_limit_login_ip"]}
    for k, v in values.items():
        setattr(s, k, v)
    p.apple_first_user = None
    yield s
    for k, v in saved.items():
        setattr(s, k, v)


def new_person(**extra) -> dict:
    tag = uuid.uuid4().hex[:10]
    return {"sub": f"sub-{tag}", "email": f"oauth-{tag}@example.com", "email_verified": True,
            "name": f"Person {tag}", **extra}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action", "")
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def page_form(page: str) -> tuple[str, str, dict]:
    """(method, action, fields) of the first form of an HTML page."""
    form = _FormParser()
    form.feed(page)
    return "POST", form.action, form.fields


def app_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Browser:
    """Drives the flow as a browser would: the app via ASGI, the provider over real HTTP."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.last_callback: tuple[str, str, dict] | None = None

    async def start(self, provider: str, **params) -> httpx.Response:
        return await self.client.get(f"/api/v1/auth/oauth/{provider}", params=params)

    async def at_provider(self, authorize_url: str) -> tuple[str, str, dict]:
        """Returns (method, app path, form fields) of the provider's answer."""
        async with httpx.AsyncClient() as real:
            resp = await real.get(authorize_url)
        if resp.status_code == 302:
            return "GET", app_path(resp.headers["location"]), {}
        assert resp.status_code == 200, resp.text
        form = _FormParser()
        form.feed(resp.text)
        return "POST", app_path(form.action), form.fields

    async def callback(self, method: str, path: str, fields: dict, headers=None, cookies=None) -> httpx.Response:
        if method == "GET":
            return await self.client.get(path, headers=headers)
        if cookies is not None:  # a cross-site POST: only what the test says the browser sends
            async with httpx.AsyncClient(transport=self.client._transport, base_url=self.client.base_url,
                                         cookies=cookies) as other:
                return await other.post(path, data=fields, headers=headers)
        return await self.client.post(path, data=fields, headers=headers)

    async def login(self, provider: str, headers=None, **params) -> httpx.Response:
        r = await self.start(provider, **params)
        assert r.status_code == 302, r.text
        self.last_callback = await self.at_provider(r.headers["location"])
        return await self.callback(*self.last_callback, headers=headers)


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)
