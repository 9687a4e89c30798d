"""Schemathesis over our own OpenAPI document, against a real `xinex api` on PostgreSQL: requests generated from
the schema (valid and invalid) must never get a server error, and every answer must match the schema the
operation documents (status, content type, body). Bounded: a few examples per operation, a fixed seed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.resilience.processes import child_env, fresh_database, start_api

MAX_EXAMPLES = 4
SEED = 20261204


async def _token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        email, password = f"st-{uuid.uuid4().hex[:8]}@example.com", "schemathesis account passphrase"
        assert (await c.post("/api/v1/auth/register", json={"email": email, "password": password})).status_code == 201
        login = await c.post("/api/v1/auth/login", json={"email": email, "password": password})
        browser = {"Cookie": "; ".join(f"{k}={v}" for k, v in login.cookies.items()),
                   "X-CSRF-Token": login.json()["csrf_token"]}
        r = await c.post("/api/v1/api-tokens", json={"name": "schemathesis", "scopes": ["*:write"]}, headers=browser)
        assert r.status_code == 201, r.text
        return r.json()["token"]


async def test_generated_requests_get_no_server_error_and_conform_to_the_schema(tmp_path):
    async with fresh_database() as url:
        # Limits that would turn fuzzing into 429s are lifted; the subject here is the contract.
        # No SMTP: registration then signs in at once (with mail it confirms by link first: docs/security.md).
        env = child_env(tmp_path, database_url=url, redis_url="", smtp_url="", rate_limit_default="1000000/minute",
                        ping_rate_limit_per_minute="0", default_tier="enterprise")
        api, base = await start_api(env, tmp_path)
        try:
            token = await _token(base)
            st = Path(sys.executable).with_name("st")
            run = subprocess.run(
                [str(st), "run", f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}",
                 "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
                 "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
                 "--request-timeout", "30", "--phases", "examples,fuzzing", "--generation-allow-x00", "true"],
                capture_output=True, text=True, timeout=900, env={**env, "NO_COLOR": "1"},
                cwd=tmp_path)  # its example cache (.schemathesis/) stays out of the repository
            server_log = api.output()
        finally:
            api.stop()
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:] + "\n--- server ---\n" + server_log[-5000:]
    assert "generated" in run.stdout


# Operations whose schema-valid requests the server may still refuse, each for a rule JSON Schema cannot
# state (or that depends on data the generator cannot know). Every other operation must accept every
# request its schema allows: a refusal there is a rule missing from the schema.
NOT_EXPRESSIBLE = {
    # Bounded instants: the date-time format has no minimum or maximum (1970-2999; telemetry 1900-2262).
    "GET /api/v1/maintenance-windows/active": "instant range",
    "GET /api/v1/schedules/{schedule_id}/oncall": "instant range",
    "GET /api/v1/schedules/{schedule_id}/shifts": "instant range; to after from, at most 366 days",
    "GET /api/v1/telemetry/logs": "instant range; to after from",
    "GET /api/v1/telemetry/services": "instant range; to after from",
    "GET /api/v1/telemetry/traces/{trace_id}": "instant range; to after from",
    "GET /api/v1/analytics/uptime": "from before to, at most 400 days apart",
    "GET /api/v1/analytics/response-time": "bucket between 10 s and 31 d and a bounded number of them in the range",
    "GET /api/v1/annotations": "from before to",
    "POST /api/v1/silence": "instant range; ends_at after starts_at",
    "POST /api/v1/schedules/{schedule_id}/overrides": "instant range; ends_at after starts_at; a member's id",
    # Rules across fields.
    "POST /api/v1/annotations": "time, or start (and end after it)",
    "PUT /api/v1/annotations/{annotation_id}": "time, or start (and end after it), with the stored values",
    "POST /api/v1/maintenance-windows": "one-off (starts_at < ends_at) or recurring (cron + duration); ids of "
                                        "this tenant's monitors and heartbeats",
    "PUT /api/v1/maintenance-windows/{window_id}": "as POST",
    "POST /api/v1/ai-heartbeats/{hb_id}/run": "an end event needs an outcome; run ids pair with earlier events",
    "GET /api/v1/sso/login": "tenant or email",
    # Ids of other objects of the tenant.
    "POST /api/v1/alert-routing-rules": "a policy and/or channels of this tenant",
    "PUT /api/v1/alert-routing-rules/{rule_id}": "as POST; the default route stays the default route",
    "POST /api/v1/escalation-policies": "targets of this tenant (members, schedules, channels)",
    "PUT /api/v1/escalation-policies/{policy_id}": "as POST",
    "POST /api/v1/schedules": "members of this tenant; instant range",
    "PUT /api/v1/schedules/{schedule_id}": "as POST",
    # Values the server issued (links mailed, OAuth clients and codes, IdP assertions).
    "POST /api/v1/auth/register/confirm": "a sign-up token the server mailed",
    "POST /api/v1/auth/password-reset/confirm": "a reset token the server mailed",
    "POST /api/v1/auth/verify-email": "a verification token the server mailed",
    "POST /api/v1/invitations/accept": "an invitation token the server mailed",
    "GET /api/v1/oauth/authorize": "a registered client and redirect URI",
    "GET /oauth/authorize": "a registered client and redirect URI",
    "POST /api/v1/oauth/token": "a code or refresh token the server issued",
    "POST /oauth/token": "a code or refresh token the server issued",
    "POST /api/v1/oauth/revoke": "a registered client",
    "POST /oauth/revoke": "a registered client",
    "POST /api/v1/sso/{tenant_slug}/acs": "an assertion signed by the tenant's IdP",
    "POST /status/{slug}/confirm": "a subscription token the server mailed",
    "POST /status/{slug}/unsubscribe": "an unsubscribe token the server mailed",
    # Grammars and databases outside JSON Schema.
    "POST /api/v1/dsl": "an OQL query",
    "POST /api/v1/heartbeats": "a cron expression that fires; an IANA time zone",
    "PUT /api/v1/heartbeats/{heartbeat_id}": "as POST",
    "POST /api/v1/ai-heartbeats": "a cron expression that fires; an IANA time zone; interval or cron",
    "PUT /api/v1/ai-heartbeats/{hb_id}": "as POST",
    "PUT /api/v1/me": "an IANA time zone",
    "POST /api/v1/invitations": "an address e-mail can be delivered to (no special-use domains)",
    "PUT /api/v1/sso/config": "a certificate that parses as X.509",
    # The network and the stored object.
    "POST /api/v1/monitors": "the target's host must resolve to an address the outbound policy allows",
    "POST /api/v1/notification-channels": "the URL's host must resolve to an address the outbound policy allows; "
                                          "push users must be members",
    "PUT /api/v1/monitors/{monitor_id}": "the fields of the stored monitor's type",
    "PUT /api/v1/notification-channels/{channel_id}": "the config of the stored channel's kind",
    "POST /api/v1/integrations": "JMESPath expressions that compile, and a mapping only on kind webhook",
    "PUT /api/v1/integrations/{integration_id}": "as POST, with the stored integration's kind",
    "POST /api/v1/integrations/import": "a source's REST API that answers at the given URL with the given token",
    # Status pages: cross-field rules and other objects of the tenant.
    "POST /api/v1/status-pages": "a password only with (and required by) visibility password; a slug not reserved; "
                                 "an IANA time zone",
    "PUT /api/v1/status-pages/{page_id}": "as POST",
    "POST /api/v1/status/groups": "page_id, optional only under /status-pages/{page_id}/groups",
    "PUT /api/v1/status/groups/{group_id}": "the stored group's page_id",
    "POST /api/v1/status/components": "page_id (as for groups); source_id exactly with a non-manual source_type, "
                                      "naming a source of the tenant; a group of the same page",
    "POST /api/v1/status-pages/{page_id}/components": "as POST /api/v1/status/components",
    "PUT /api/v1/status/components/{component_id}": "as POST, and the stored component's page_id",
    "POST /api/v1/status-pages/{page_id}/incidents": "components of this page; an existing linked incident",
    "PATCH /api/v1/status-pages/{page_id}/incidents/{incident_id}": "as POST",
    "POST /api/v1/public/status-pages/{slug}/subscribe": "exactly one of email and webhook_url",
    "POST /api/v1/incidents/{incident_id}/reassign": "exactly one of user_id and escalation_policy_id, naming a "
                                                     "member or a policy of the team",
    "POST /api/v1/push-tokens": "an APNs device token (64 to 200 hex digits) when the platform is ios",
    "POST /v2/enqueue": "the Events API's cross-field rules (a payload for trigger, a dedup_key for acknowledge "
                        "and resolve), answered in PagerDuty's 400",
}


async def test_schema_valid_requests_are_accepted(tmp_path):
    """positive_data_acceptance: outside NOT_EXPRESSIBLE, what the schema allows, the server accepts
    (2xx, or 401/403/404/409 — a missing object or a conflict is not a refused rule)."""
    async with fresh_database() as url:
        env = child_env(tmp_path, database_url=url, redis_url="", smtp_url="", rate_limit_default="1000000/minute",
                        ping_rate_limit_per_minute="0", default_tier="enterprise")
        api, base = await start_api(env, tmp_path)
        try:
            token = await _token(base)
            st = Path(sys.executable).with_name("st")
            excluded = [arg for name in NOT_EXPRESSIBLE for arg in ("--exclude-name", name)]
            run = subprocess.run(
                [str(st), "run", f"{base}/openapi.json", "-H", f"Authorization: Bearer {token}",
                 "--checks", "positive_data_acceptance", "--mode", "positive", *excluded,
                 "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
                 "--request-timeout", "30", "--phases", "examples,fuzzing", "--generation-allow-x00", "false"],
                capture_output=True, text=True, timeout=900, env={**env, "NO_COLOR": "1"})
            server_log = api.output()
        finally:
            api.stop()
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:] + "\n--- server ---\n" + server_log[-3000:]
    assert "generated" in run.stdout
