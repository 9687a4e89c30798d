"""`xinex` command: api, worker, migrate, otlp, probe, run (embedded all-in-one)."""

from __future__ import annotations

import argparse
import os
import sys


def _migrate() -> None:
    from xinex.migrate import upgrade

    upgrade()


def _user_status(settings, disable: bool, email: str, reason: str) -> int:
    import asyncio
    import json

    from xinex.auth.account_status import UnknownAccount, set_disabled
    from xinex.kit.db import Database

    async def change():
        db = Database(settings.effective_database_url)
        try:
            return await set_disabled(db, email, disable, reason=reason, redis_url=settings.redis_url)
        finally:
            await db.dispose()

    try:
        result = asyncio.run(change())
    except UnknownAccount:
        print(f"no account with the e-mail address {email}", file=sys.stderr)
        return 1
    out = {"user_id": str(result.user_id), "email": result.email, "disabled": disable, "changed": result.changed}
    if result.ended is not None:
        out |= result.ended.summary()
    print(json.dumps(out))
    return 0


def _billing(settings, args) -> int:
    """`xinex billing sync-prices` and `xinex tenants set-tier` (docs/billing.md)."""
    import asyncio
    import json

    from xinex.kit.errors import AppError

    async def run():
        if args.command == "billing":
            from xinex.billing.prices import sync_prices

            return await sync_prices()
        from xinex.billing.service import set_tier_by_operator
        from xinex.kit.db import Database

        db = Database(settings.effective_database_url)
        try:
            async with db.session(system="operator: xinex tenants set-tier") as session:
                change = await set_tier_by_operator(session, args.tenant, args.tier)
            return {"tenant_id": str(change.tenant_id), "from": change.old, "to": change.new, "changed": change.changed}
        finally:
            await db.dispose()

    try:
        result = asyncio.run(run())
    except AppError as exc:
        print(f"{exc.code}: {exc.message} {json.dumps(exc.details) if exc.details else ''}".strip(), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


DEFAULT_IMPORT_URLS = {"pagerduty": "https://api.pagerduty.com", "opsgenie": "https://api.opsgenie.com",
                       "grafana-oncall": "http://127.0.0.1:8080"}


def _import(args: argparse.Namespace) -> int:
    """`xinex import pagerduty`: POST /api/v1/integrations/import on the given Xinex, then print the
    plan (or what was done), every problem, and the summary."""
    import asyncio

    from xinex.kit.outbound import platform_client

    if not args.xinex_token:
        print("xinex import needs --xinex-token (or XINEX_TOKEN): an admin's API token of the tenant", file=sys.stderr)
        return 2

    async def call() -> tuple[int, dict]:
        async with platform_client(args.xinex_url, args.xinex_token, timeout=300) as client:
            r = await client.post("/api/v1/integrations/import", json={
                "source": args.source, "url": args.url or DEFAULT_IMPORT_URLS[args.source], "token": args.token,
                "dry_run": args.dry_run})
            return r.status_code, r.json()

    status, body = asyncio.run(call())
    if status != 200:
        print(f"import refused ({status}): {body.get('error') or body}", file=sys.stderr)
        return 1
    verb = "plan:" if body["dry_run"] else "done:"
    for item in body["items"]:
        line = f"{verb} {item['action']:<8} {item['type']:<18} {item['name']}"
        if item.get("detail"):
            line += f" — {item['detail']}"
        if item.get("key"):
            line += f"\n    new routing key (shown once): {item['key']}"
        print(line)
    for problem in body["problems"]:
        print(f"cannot map {problem['type']} {problem['name'] or problem['external_id']}: {problem['why']}")
    counts = "; ".join(f"{t}: " + ", ".join(f"{n} {a}" for a, n in sorted(actions.items()))
                       for t, actions in sorted(body["summary"].items()))
    print(f"summary ({'dry run, nothing changed' if body['dry_run'] else 'done'}): {counts or 'nothing'}; "
          f"{len(body['problems'])} problem(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xinex", description="Xinex monitoring and on-call platform")
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="serve the HTTP API (production: behind a load balancer)")
    api.add_argument("--host")
    api.add_argument("--port", type=int)
    sub.add_parser("worker", help="run the arq job worker (needs XINEX_REDIS_URL)")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("otlp", help="run the OTLP receivers alone (gRPC :4317, HTTP :4318)").add_argument("--host")
    probe = sub.add_parser("probe", help="remote probe: run this region's checks for a Xinex platform")
    probe.add_argument("--url", required=True)
    probe.add_argument("--token", required=True, help="prober token (xinex_probe_...)")
    probe.add_argument("--once", action="store_true", help="one round, then exit")
    user = sub.add_parser("user", help="operator actions on an account: disable (ends every credential) or enable")
    user.add_argument("action", choices=("disable", "enable"))
    user.add_argument("email")
    user.add_argument("--reason", default="", help="recorded in the audit log of each of the user's tenants")
    billing = sub.add_parser("billing", help="Stripe billing: sync-prices creates or updates the plans' prices")
    billing.add_argument("action", choices=("sync-prices",))
    tenants = sub.add_parser("tenants", help="operator actions on a tenant: set-tier (without Stripe; audited)")
    tenants.add_argument("action", choices=("set-tier",))
    tenants.add_argument("tenant", help="the tenant's id or slug")
    tenants.add_argument("tier", choices=("free", "pro", "team", "enterprise"))
    imp = sub.add_parser("import", help="move in from PagerDuty, Opsgenie or Grafana OnCall: schedules, policies, services "
                                        "(through the API of a running Xinex: docs/migration.md)")
    imp.add_argument("source", choices=("pagerduty", "opsgenie", "grafana-oncall"))
    imp.add_argument("--url", help="the source's REST API base (default https://api.pagerduty.com, "
                                   "https://api.opsgenie.com)")
    imp.add_argument("--token", required=True, help="a read-only REST API key of the source")
    imp.add_argument("--dry-run", action="store_true", help="print the plan and what cannot be mapped; change nothing")
    imp.add_argument("--xinex-url", default=os.environ.get("XINEX_URL", "http://127.0.0.1:8000"),
                     help="the Xinex to import into (env XINEX_URL)")
    imp.add_argument("--xinex-token", default=os.environ.get("XINEX_TOKEN", ""),
                     help="an admin's API token of the tenant to import into (env XINEX_TOKEN)")
    run = sub.add_parser("run", help="embedded all-in-one: migrate, then API + jobs in one process")
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    args = parser.parse_args(argv)

    from xinex.settings import SettingsInvalid, get_settings

    try:
        settings = get_settings()
    except SettingsInvalid as exc:
        print(f"xinex: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        _migrate()
        return 0
    if args.command == "import":
        return _import(args)
    if args.command == "user":
        return _user_status(settings, args.action == "disable", args.email, args.reason)
    if args.command in ("billing", "tenants"):
        return _billing(settings, args)
    if args.command == "probe":
        import asyncio

        from xinex.monitors.probe_agent import run_probe

        asyncio.run(run_probe(args.url, args.token, once=args.once))
        return 0
    if args.command == "otlp":
        import asyncio

        from xinex.telemetry.receivers import serve

        asyncio.run(serve(args.host))
        return 0
    if args.command == "worker":
        if not settings.redis_url:
            print("xinex worker needs XINEX_REDIS_URL", file=sys.stderr)
            return 2
        import asyncio

        from xinex.worker import run

        asyncio.run(run(settings))
        return 0
    import uvicorn

    if args.command == "run":
        from xinex.settings import apply_embedded_defaults

        for line in apply_embedded_defaults(settings):
            print(f"xinex: {line}", flush=True)
        _migrate()
    # The app reads the same (cached) settings: the start-up lines then name the address really served.
    settings.http_host = args.host or settings.http_host
    settings.http_port = args.port or settings.http_port
    uvicorn.run("xinex.app:create_app", factory=True, host=settings.http_host, port=settings.http_port,
                proxy_headers=False, log_level="info", access_log=settings.access_log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
