"""The mobile app's endpoint contract: every row of the API inventory, whether the app calls it ("M",
"P" for partially) and what a mobile access token (JWT from the PKCE sign-in) gets there.

`with_jwt` says how the row is reached from the phone:
- "served": called with `Authorization: Bearer <JWT>`; scopes and the member's role decide as for any
  credential (tests/mobile/test_contract.py walks each one through the real PKCE flow).
- "public": no credential at all (sign-in steps, public data); a JWT sent along is ignored.
- "browser": a step of a sign-in in the system browser, not an API call of the app.
- "reachable": not called by the app, but the JWT is the user's credential like a browser session, so it is
  served under the same scopes and role (the app may grow into it; nothing is hidden from a signed-in user).

docs/mobile.md prints this table; tests/mobile/test_contract.py checks the app's rows and that every
"reachable" row answers a JWT like any other credential.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as served; under /api/v1 unless it starts with /oauth, /.well-known, /health, /ping, /status
    mobile: str  # "M" (the app calls it), "P" (partially), "" (not the app's)
    with_jwt: str  # served | public | browser | reachable
    what: str


ROWS: tuple[Row, ...] = (
    # Auth and identity
    Row("POST", "/auth/login", "M", "public", "password login (a browser session; the app signs in with PKCE)"),
    Row("POST", "/auth/register", "M", "public", "create an account (mail with a link)"),
    Row("POST", "/auth/logout", "M", "served", "end the session (with a JWT: nothing to end, 204)"),
    Row("POST", "/auth/password-reset", "M", "public", "start a reset (mail with a single-use token)"),
    Row("POST", "/auth/password-reset/confirm", "M", "public", "finish a reset"),
    Row("POST", "/auth/verify-email", "M", "public", "confirm an address"),
    Row("GET", "/auth/oauth/providers", "M", "public", "enabled social login providers"),
    Row("GET", "/auth/oauth/{provider}", "M", "browser", "start a social login"),
    Row("GET", "/auth/oauth/{provider}/callback", "M", "browser", "social login callback"),
    Row("POST", "/auth/oauth/apple/native", "M", "public", "Apple native sign-in with an id_token"),
    Row("GET", "/oauth/authorize", "M", "browser", "PKCE authorization endpoint"),
    Row("POST", "/oauth/token", "M", "public", "code → tokens; refresh (rotating)"),
    Row("POST", "/oauth/revoke", "M", "public", "sign out of the app (RFC 7009; unregisters its push tokens)"),
    Row("GET", "/sso/login", "", "browser", "SAML single sign-on"),
    Row("GET", "/me", "M", "served", "current user"),
    Row("PUT", "/me", "M", "served", "update profile"),
    Row("GET", "/sessions", "M", "served", "active sessions"),
    Row("DELETE", "/sessions/{id}", "M", "served", "revoke a session"),
    Row("GET", "/api-tokens", "", "reachable", "API tokens"),
    # Monitoring
    Row("GET", "/monitors", "M", "served", "list monitors"),
    Row("POST", "/monitors", "M", "served", "create a monitor"),
    Row("GET", "/monitors/{id}", "M", "served", "read a monitor"),
    Row("PUT", "/monitors/{id}", "M", "served", "update a monitor"),
    Row("DELETE", "/monitors/{id}", "M", "served", "delete a monitor"),
    Row("GET", "/monitors/{id}/status", "M", "served", "a monitor's current status"),
    Row("GET", "/heartbeats", "M", "served", "list heartbeats"),
    Row("POST", "/heartbeats", "M", "served", "create a heartbeat"),
    Row("GET", "/heartbeats/{id}", "M", "served", "read a heartbeat"),
    Row("PUT", "/heartbeats/{id}", "M", "served", "update a heartbeat"),
    Row("DELETE", "/heartbeats/{id}", "M", "served", "delete a heartbeat"),
    Row("POST", "/hb/{slug}", "M", "served", "heartbeat ping"),
    Row("GET", "/ai-heartbeats", "", "reachable", "AI heartbeats"),
    Row("POST", "/ai-heartbeats/{id}/run", "", "reachable", "post an AI run event"),
    Row("GET", "/maintenance-windows", "M", "served", "list maintenance windows"),
    Row("POST", "/maintenance-windows", "M", "served", "create a maintenance window"),
    Row("GET", "/maintenance-windows/{id}", "M", "served", "read a maintenance window"),
    Row("PUT", "/maintenance-windows/{id}", "M", "served", "update a maintenance window"),
    Row("DELETE", "/maintenance-windows/{id}", "M", "served", "delete a maintenance window"),
    Row("GET", "/analytics/uptime", "P", "served", "uptime statistics"),
    Row("GET", "/analytics/response-time", "P", "served", "response time statistics"),
    # Incidents and on-call
    Row("GET", "/incidents", "M", "served", "list incidents"),
    Row("GET", "/incidents/{id}", "M", "served", "read an incident"),
    Row("POST", "/incidents/{id}/ack", "M", "served", "acknowledge (also with a notification's action token)"),
    Row("POST", "/incidents/{id}/resolve", "M", "served", "resolve (also with a notification's action token)"),
    Row("GET", "/correlation-groups", "M", "served", "correlation groups"),
    Row("GET", "/alerts", "M", "served", "alert records"),
    Row("GET", "/alert-routing-rules", "M", "served", "list routing rules"),
    Row("POST", "/alert-routing-rules", "M", "served", "create a routing rule"),
    Row("GET", "/alert-routing-rules/{id}", "M", "served", "read a routing rule"),
    Row("PUT", "/alert-routing-rules/{id}", "M", "served", "update a routing rule"),
    Row("DELETE", "/alert-routing-rules/{id}", "M", "served", "delete a routing rule"),
    Row("GET", "/escalation-policies", "M", "served", "list escalation policies"),
    Row("POST", "/escalation-policies", "M", "served", "create an escalation policy"),
    Row("GET", "/escalation-policies/{id}", "M", "served", "read an escalation policy"),
    Row("PUT", "/escalation-policies/{id}", "M", "served", "update an escalation policy"),
    Row("DELETE", "/escalation-policies/{id}", "M", "served", "delete an escalation policy"),
    Row("GET", "/schedules", "M", "served", "list schedules"),
    Row("POST", "/schedules", "M", "served", "create a schedule"),
    Row("GET", "/schedules/{id}", "M", "served", "read a schedule"),
    Row("PUT", "/schedules/{id}", "M", "served", "update a schedule"),
    Row("DELETE", "/schedules/{id}", "M", "served", "delete a schedule"),
    Row("POST", "/schedules/{id}/overrides", "M", "served", "override a schedule"),
    Row("GET", "/notification-channels", "M", "served", "list channels"),
    Row("POST", "/notification-channels", "M", "served", "create a channel"),
    Row("GET", "/notification-channels/{id}", "M", "served", "read a channel"),
    Row("PUT", "/notification-channels/{id}", "M", "served", "update a channel"),
    Row("DELETE", "/notification-channels/{id}", "M", "served", "delete a channel"),
    Row("POST", "/notification-channels/{id}/test", "M", "served", "send a test notification"),
    Row("GET", "/notification-log", "", "reachable", "what was sent"),
    Row("GET", "/notifications/feed", "M", "served", "the in-app feed"),
    Row("GET", "/notifications/feed/unread-count", "M", "served", "unread count"),
    Row("POST", "/notifications/feed/{id}/read", "M", "served", "mark one read"),
    Row("POST", "/notifications/feed/read-all", "M", "served", "mark all read"),
    Row("GET", "/users/me/notification-prefs", "M", "served", "notification preferences"),
    Row("PUT", "/users/me/notification-prefs", "M", "served", "set notification preferences"),
    Row("POST", "/ws/ticket", "M", "served", "a ticket for the real-time WebSocket (/ws?ticket=…)"),
    # Status pages
    Row("GET", "/status-pages", "P", "served", "manage status pages (read on the phone)"),
    Row("GET", "/public/status-pages/{slug}", "", "public", "a public status page"),
    # Billing
    Row("GET", "/billing/subscription", "M", "served", "current subscription"),
    Row("POST", "/billing/create-checkout-session", "M", "served", "start Stripe Checkout"),
    Row("POST", "/billing/downgrade", "M", "served", "schedule a downgrade"),
    Row("DELETE", "/billing/downgrade", "M", "served", "cancel a scheduled downgrade"),
    Row("POST", "/billing/interval", "M", "served", "switch the billing interval"),
    Row("GET", "/billing/invoices", "M", "served", "invoices"),
    Row("GET", "/billing/tax-info", "M", "served", "tax id"),
    Row("PUT", "/billing/tax-info", "M", "served", "set the tax id"),
    Row("GET", "/billing/currencies", "M", "served", "supported currencies"),
    Row("GET", "/public/tiers", "", "public", "public tier data"),
    # Account, tenant and platform
    Row("GET", "/account/export", "M", "served", "request a data export"),
    Row("GET", "/audit-log", "", "reachable", "the tenant's audit log"),
    Row("GET", "/feature-flags", "M", "served", "flags active for the tenant"),
    Row("GET", "/feature-gates", "M", "served", "feature gates by tier"),
    Row("GET", "/onboarding", "M", "served", "onboarding steps"),
    Row("POST", "/onboarding/{step}/complete", "M", "served", "complete a step"),
    Row("GET", "/push-tokens", "M", "served", "the caller's push devices"),
    Row("POST", "/push-tokens", "M", "served", "register a device for push"),
    Row("DELETE", "/push-tokens/{token}", "M", "served", "unregister a device"),
    Row("GET", "/public/brand-settings", "", "public", "the operator's brand"),
    Row("GET", "/health", "", "public", "health check (no prefix)"),
)


def app_rows() -> list[Row]:
    """What the app calls with its JWT (the contract test walks each one)."""
    return [r for r in ROWS if r.mobile in ("M", "P") and r.with_jwt == "served"]


def url(row: Row) -> str:
    root = ("/oauth", "/.well-known", "/health", "/ping", "/status/")
    return row.path if row.path.startswith(root) else "/api/v1" + row.path
