"""What `xinex run` / `xinex api` say when they start: where they listen, where data lives, what to do first."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from sqlalchemy import func, select

from xinex import __version__
from xinex.kit.db import Database
from xinex.settings import Settings

log = logging.getLogger("xinex")


def _redacted(url: str) -> str:
    """A database/Redis URL without its password (the host and database name are what an operator checks)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def describe(settings: Settings, *, embedded_jobs: bool) -> list[str]:
    data = settings.data_dir.resolve()
    lines = [f"Xinex {__version__} ({settings.env})"]
    listen = f"http://{settings.http_host}:{settings.http_port}"
    lines.append(f"HTTP      {listen}  (API /api/v1, OpenAPI /docs, readiness /health/ready)")
    base = settings.public_url.rstrip("/")
    if base != listen:
        lines.append(f"public    {base}  (links in e-mails, ping URLs; XINEX_PUBLIC_URL)")
    if embedded_jobs:
        lines.append(f"OTLP      gRPC {settings.http_host}:{settings.otlp_grpc_port}, "
                     f"HTTP http://{settings.http_host}:{settings.otlp_http_port}")
    lines.append("database  " + (_redacted(settings.database_url) if settings.database_url
                                 else f"SQLite {data / 'xinex.db'}"))
    lines.append("telemetry " + (_redacted(settings.clickhouse_url) if settings.clickhouse_url
                                 else f"chdb {data / 'chdb'}"))
    lines.append("jobs      " + ("in this process" if embedded_jobs
                                 else f"arq on {_redacted(settings.redis_url)} (run `xinex worker`)"))
    if not settings.smtp_url:
        lines.append("mail      not configured (XINEX_SMTP_URL): e-mail notifications and links are logged, "
                     "not sent")
    lines.append("push      " + push_line(settings))
    return lines


def push_line(settings: Settings) -> str:
    """Whether pages reach phones: the APNs/FCM endpoints in use, or which variables are missing."""
    apns = all((settings.apns_key_id, settings.apns_team_id, settings.apns_topic)) and bool(
        settings.apns_private_key or settings.apns_private_key_file)
    fcm = bool(settings.fcm_service_account or settings.fcm_service_account_file)
    parts = [f"APNs {urlsplit(settings.apns_url_production).netloc} (sandbox "
             f"{urlsplit(settings.apns_url_sandbox).netloc})" if apns else
             "APNs not configured (XINEX_APNS_KEY_ID, _TEAM_ID, _TOPIC, _PRIVATE_KEY or _PRIVATE_KEY_FILE)",
             f"FCM {urlsplit(settings.fcm_url).netloc}" if fcm else
             "FCM not configured (XINEX_FCM_SERVICE_ACCOUNT or _FILE)"]
    return "; ".join(parts)


async def announce(settings: Settings, db: Database, *, embedded_jobs: bool) -> None:
    for line in describe(settings, embedded_jobs=embedded_jobs):
        log.info(line)
    from xinex.models.identity import User

    try:
        async with db.session(system="startup: first-account hint") as session:
            users = (await session.execute(select(func.count()).select_from(User))).scalar_one()
    except Exception as exc:  # noqa: BLE001 - the hint is a courtesy; a database problem shows on /health/ready
        log.warning("could not read the account count at start-up: %s", type(exc).__name__)
        return
    if users == 0:
        base = f"http://{settings.http_host}:{settings.http_port}"
        log.info("No account yet. Create the first one (docs/quickstart.md walks through the rest):")
        log.info("  curl -sS -X POST %s/api/v1/auth/register -H 'Content-Type: application/json' "
                 "-d '{\"email\": \"you@example.com\", \"password\": \"<a long passphrase>\", "
                 "\"name\": \"You\", \"tenant_name\": \"My team\"}'", base)
