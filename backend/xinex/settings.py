"""Configuration: environment variables with the XINEX_ prefix (README lists them)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev-insecure-secret-key"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINEX_", env_file=None, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./var")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    otlp_grpc_port: int = 4317
    otlp_http_port: int = 4318
    # Empty means the embedded default: SQLite under data_dir.
    database_url: str = ""
    # Empty means in-process rate limits, fan-out and jobs.
    redis_url: str = ""
    # Empty means chdb under data_dir.
    clickhouse_url: str = ""
    secret_key: str = "dev-insecure-secret-key"
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: str = ""
    mail_from: str = "Xinex <no-reply@xinex.local>"
    # Loopback/private/link-local targets for monitors, channels and webhooks. `xinex run` in
    # development defaults it to true (apply_embedded_defaults); everything else to false.
    outbound_allow_private: bool = False
    # Tier of a new tenant. Empty: `free` when Stripe billing is configured, `enterprise` otherwise
    # (a self-hosted install is not a shop).
    default_tier: Literal["", "free", "pro", "team", "enterprise"] = ""
    # Billing (docs/billing.md). No secret key: billing endpoints answer BILLING_NOT_CONFIGURED.
    stripe_secret_key: str = ""
    # Webhook signing secrets (whsec_...), comma-separated: several are accepted during a rotation.
    stripe_webhook_secret: str = ""
    # Empty: Stripe's own (https://api.stripe.com); tests point it at a local Stripe-compatible server.
    stripe_api_base: str = ""
    # Days a past_due subscription keeps its paid tier before the tenant falls to free.
    billing_grace_days: int = Field(default=7, ge=0)
    # Public brand (GET /public/brand-settings).
    brand_name: str = "Xinex"
    brand_logo_url: str = ""
    brand_primary_color: str = "#4f46e5"
    brand_accent_color: str = "#0ea5e9"
    brand_support_email: str = ""
    # One line per HTTP request on the terminal (query strings never logged).
    access_log: bool = True

    # Sessions
    session_idle_timeout_s: int = 60 * 60 * 24 * 7
    session_absolute_timeout_s: int = 60 * 60 * 24 * 30
    # Secure cookies carry the `__Host-` prefix (see cookie_name). Browsers accept Secure cookies on
    # http://localhost and http://127.0.0.1, so `make run` keeps the default; set false only to serve
    # plain http on another host (cookies then lose Secure and the prefix).
    cookie_secure: bool = True

    # argon2id; OWASP minimum is m=19 MiB, t=2, p=1. Tests may lower it; production refuses to.
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    argon2_parallelism: int = 1

    # Rate limits ("limits" notation)
    rate_limit_default: str = "600/minute"
    rate_limit_login_ip: str = "30/minute"
    # Per account for clients that are not a known device of it (auth/devices.py); several windows
    # separated by ";" make sustained guessing wait progressively longer. A known device has the
    # first window as its own budget.
    rate_limit_login_account: str = "10/minute;50/hour"
    rate_limit_reset: str = "5/minute"
    rate_limit_token: str = "60/minute"
    # 403 authorization failures written to a tenant's audit log (after de-duplication), at most
    rate_limit_audit_denials: str = "30/minute"
    # Public status-page subscribe requests (and password attempts): per client IP, and per page.
    rate_limit_status_subscribe_ip: str = "20/minute"
    rate_limit_status_subscribe_page: str = "200/hour"
    trusted_proxies: list[str] = Field(default_factory=list)

    # Request-body caps in bytes (kit/http/bodylimit.py): every API route, and the /ping/{uuid} bodies,
    # which are cut to this size and stored rather than refused (like healthchecks' 100 kB).
    body_limit: int = Field(default=1024 * 1024, ge=1024)
    ping_body_limit: int = Field(default=100_000, ge=1)
    # Pings one heartbeat accepts per minute (heartbeats/throttle.py; 0 = no limit); a state change
    # (up -> down, down -> up) always gets through.
    ping_rate_limit_per_minute: int = Field(default=60, ge=0)
    # Inbound alerts (integrations/): the body cap of /v2/enqueue, /v2/alerts and /hooks/ (PagerDuty's
    # own limit is 512 KB per event), and the requests per minute one integration accepts unless it
    # sets its own rate_limit_per_minute.
    integration_body_limit: int = Field(default=512 * 1024, ge=1024)
    integration_rate_limit_per_minute: int = Field(default=1200, ge=1)

    # Telemetry queries (telemetry/query_gate.py): per tenant, this many run at once (across
    # replicas when Redis is set), this many more wait in the tenant's queue for up to the
    # timeout, and the rest are answered 429.
    oql_max_running_per_tenant: int = Field(default=4, ge=1)
    oql_max_queued_per_tenant: int = Field(default=8, ge=0)
    oql_queue_timeout_s: float = Field(default=10.0, gt=0)

    # JWT access tokens of our OAuth server (mobile)
    jwt_access_ttl_s: int = 900
    refresh_token_ttl_s: int = 60 * 60 * 24 * 30
    mobile_client_id: str = "xinex-mobile"
    mobile_redirect_uris: list[str] = Field(default_factory=lambda: ["xinex://oauth/callback"])

    # OAuth login providers: a provider is enabled when its client id is set.
    oauth_google_client_id: str = ""
    oauth_google_client_secret: str = ""
    oauth_google_metadata_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    oauth_microsoft_client_id: str = ""
    oauth_microsoft_client_secret: str = ""
    oauth_microsoft_metadata_url: str = (
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    )
    oauth_github_client_id: str = ""
    oauth_github_client_secret: str = ""
    oauth_github_authorize_url: str = "https://github.com/login/oauth/authorize"
    oauth_github_token_url: str = "https://github.com/login/oauth/access_token"
    oauth_github_api_url: str = "https://api.github.com"
    oauth_apple_client_id: str = ""
    oauth_apple_client_secret: str = ""
    oauth_apple_metadata_url: str = "https://appleid.apple.com/.well-known/openid-configuration"
    oauth_apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    oauth_apple_issuer: str = "https://appleid.apple.com"

    # Paging and notification delivery (docs/delivery.md). A claimed page / notification attempt
    # belongs to one worker until its lease ends; after that another worker takes it over (the
    # holder died). HTTP sends are cut off at half the delivery lease, so a lease never runs out
    # under a sender that is merely slow.
    page_lease_s: float = Field(default=60, gt=0)
    delivery_lease_s: float = Field(default=120, gt=0)

    # Mobile push (docs/mobile.md). APNs token auth: the .p8 key (PEM text or a file), its key id,
    # the team id and the app's bundle id (apns-topic). FCM HTTP v1: the service-account key (JSON
    # text or a file); the project id defaults to the key's. Base URLs exist so tests and proxies can
    # point them elsewhere; push_ca_file adds a CA to trust for them (a test CA, a corporate proxy).
    apns_key_id: str = ""
    apns_team_id: str = ""
    apns_topic: str = ""
    apns_private_key: str = ""
    apns_private_key_file: str = ""
    apns_url_production: str = "https://api.push.apple.com"
    apns_url_sandbox: str = "https://api.sandbox.push.apple.com"
    fcm_service_account: str = ""
    fcm_service_account_file: str = ""
    fcm_project_id: str = ""
    fcm_url: str = "https://fcm.googleapis.com"
    fcm_token_url: str = ""  # empty: the service account's token_uri
    push_ca_file: str = ""
    # A notification's Acknowledge / Resolve token lives this long (and never past the incident's resolve).
    push_action_ttl_s: int = Field(default=3600, ge=60)
    # Devices a process sends to at once, across its fan-outs (HTTP/2 streams over the pooled provider connections).
    push_concurrency: int = Field(default=64, ge=1, le=1000)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.env == "production":
            if self.secret_key in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
                raise ValueError("XINEX_SECRET_KEY must be set to a random value of 32+ characters in production")
            if self.argon2_memory_cost_kib < 19456 or self.argon2_time_cost < 2:
                raise ValueError("argon2 parameters below the OWASP minimum are refused in production")
        for proxy in self.trusted_proxies:
            ipaddress.ip_network(proxy, strict=False)
        return self

    def cookie_name(self, base: str) -> str:
        """`__Host-<base>` when cookies are Secure: Path=/ and no Domain, so a sibling subdomain can
        neither set nor shadow it (cookie tossing). Browsers refuse the prefix without Secure."""
        return f"__Host-{base}" if self.cookie_secure else base

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def effective_default_tier(self) -> str:
        if self.default_tier:
            return self.default_tier
        return "free" if self.stripe_secret_key else "enterprise"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'xinex.db').resolve()}"


def apply_embedded_defaults(settings: Settings) -> list[str]:
    """`xinex run` (`make run`) in development: a newcomer's first webhook receiver is on this very
    machine, so outbound requests may reach loopback/private addresses unless the operator said
    otherwise. Returns the start-up lines that say so. Never in production or for `api`/`worker`/`probe`."""
    if settings.env != "development" or "outbound_allow_private" in settings.model_fields_set:
        return []
    settings.outbound_allow_private = True
    return ["outbound requests may reach loopback/private addresses (development default of `xinex run`; "
            "set XINEX_OUTBOUND_ALLOW_PRIVATE=false to refuse them)"]


class SettingsInvalid(ValueError):
    """An XINEX_ variable the settings refuse, said the way an operator sets it (no traceback)."""

    def __init__(self, error: ValidationError) -> None:
        lines = []
        for item in error.errors():
            name = "XINEX_" + "_".join(str(part) for part in item["loc"]).upper() if item["loc"] else "settings"
            lines.append(f"{name}: {item['msg']}")  # not the value: it may be a secret
        super().__init__("invalid settings: " + "; ".join(lines))


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsInvalid(exc) from None
