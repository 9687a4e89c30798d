"""The four login providers and what each needs; a provider is enabled when its client id is set."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from xinex.kit.errors import AppError
from xinex.settings import Settings

DISPLAY = {"google": "Google", "github": "GitHub", "microsoft": "Microsoft", "apple": "Apple"}


@dataclass(frozen=True)
class Provider:
    name: str
    display_name: str
    kind: str  # "oidc" (id_token checked against the JWKS) | "github" (user read from the API)
    client_id: str
    client_secret: str
    scope: str
    pkce: bool
    # Apple answers with a cross-site form POST instead of a redirect with a query string.
    response_mode: str | None = None
    metadata_url: str = ""
    # GitHub only
    authorize_url: str = ""
    token_url: str = ""
    api_url: str = ""

    @property
    def issuer(self) -> str:
        """GitHub has no OIDC issuer: its identities are namespaced by the GitHub host."""
        parts = urlsplit(self.authorize_url)
        return f"{parts.scheme}://{parts.netloc}"


def configured(settings: Settings) -> dict[str, Provider]:
    out: dict[str, Provider] = {}
    if settings.oauth_google_client_id:
        out["google"] = Provider(
            "google", DISPLAY["google"], "oidc", settings.oauth_google_client_id,
            settings.oauth_google_client_secret, "openid email profile", pkce=True,
            metadata_url=settings.oauth_google_metadata_url)
    if settings.oauth_github_client_id:
        out["github"] = Provider(
            "github", DISPLAY["github"], "github", settings.oauth_github_client_id,
            settings.oauth_github_client_secret, "read:user user:email", pkce=True,
            authorize_url=settings.oauth_github_authorize_url, token_url=settings.oauth_github_token_url,
            api_url=settings.oauth_github_api_url.rstrip("/"))
    if settings.oauth_microsoft_client_id:
        out["microsoft"] = Provider(
            "microsoft", DISPLAY["microsoft"], "oidc", settings.oauth_microsoft_client_id,
            settings.oauth_microsoft_client_secret, "openid email profile", pkce=True,
            metadata_url=settings.oauth_microsoft_metadata_url)
    if settings.oauth_apple_client_id:
        # Apple documents no PKCE for the web flow; state + nonce protect it. Asking for name or
        # email obliges form_post.
        out["apple"] = Provider(
            "apple", DISPLAY["apple"], "oidc", settings.oauth_apple_client_id,
            settings.oauth_apple_client_secret, "openid name email", pkce=False, response_mode="form_post",
            metadata_url=settings.oauth_apple_metadata_url)
    return out


def get_provider(settings: Settings, name: str) -> Provider:
    provider = configured(settings).get(name)
    if provider is None:
        # Unknown and not-enabled answer alike: nothing to learn about the configuration.
        raise AppError("NOT_FOUND", f"OAuth provider '{name[:40]}' is not enabled")
    return provider


def callback_url(settings: Settings, name: str) -> str:
    return f"{settings.public_url.rstrip('/')}/api/v1/auth/oauth/{name}/callback"


def start_url(settings: Settings, name: str) -> str:
    return f"{settings.public_url.rstrip('/')}/api/v1/auth/oauth/{name}"
