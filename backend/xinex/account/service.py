"""Account use cases: a data export of everything the tenant owns, onboarding, the public brand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import uuid
import zipfile
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.account import repository
from xinex.account.schemas import BrandOut, ExportOut, OnboardingOut, OnboardingStep
from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.jobs import enqueue
from xinex.kit.types import to_rfc3339, utcnow
from xinex.models.account import AccountExport, OnboardingCompletion
from xinex.settings import get_settings
from xinex.timeseries.store import TimeSeriesStore

EXPORT_TTL = timedelta(hours=24)
BUILD_JOB = "xinex.account.jobs.build_export"  # by name: jobs.py imports this module

# Never exported: whole tables that hold credentials or the exports themselves, columns that are
# credentials (hashes, secrets, keys), and inside JSON values (channel and monitor configs) any key
# that names one, plus the URLs of chat-webhook channels (the URL is the credential).
SKIPPED_TABLES = frozenset({"account_exports", "api_tokens", "invitations", "probes", "oauth_clients",
                            "sso_configs"})
SECRET_NAME = re.compile(r"(hash|secret|password|passphrase|token|private|api[_-]?key|authorization|cookie|"
                         r"signing|credential|^key$|_key$)", re.I)
CHANNEL_URL_KEYS = frozenset({"url", "webhook_url", "routing_key", "integration_key"})
REDACTED = "[redacted]"


# --- export ----------------------------------------------------------------------------------------

def _signature(export_id: uuid.UUID, user_id: uuid.UUID, expires: int) -> str:
    message = f"xinex-export:{export_id}:{user_id}:{expires}".encode()
    return hmac.new(get_settings().secret_key.encode(), message, hashlib.sha256).hexdigest()


def export_out(row: AccountExport, user_id: uuid.UUID) -> ExportOut:
    status_url = f"/api/v1/account/exports/{row.id}"
    download = None
    if row.status == "ready" and row.expires_at is not None and row.requested_by == user_id:
        expires = int(row.expires_at.timestamp())
        download = f"{status_url}/download?expires={expires}&signature={_signature(row.id, user_id, expires)}"
    return ExportOut(id=row.id, status=row.status, status_url=status_url, download_url=download,  # type: ignore[arg-type]
                     size_bytes=row.size_bytes, created_at=row.created_at, finished_at=row.finished_at,
                     expires_at=row.expires_at, error=row.error)


async def request_export(session: AsyncSession, audit_ctx: AuditContext, principal: Principal) -> ExportOut:
    assert principal.tenant_id is not None
    await repository.delete_expired_exports(session, utcnow())
    row = AccountExport(tenant_id=principal.tenant_id, requested_by=principal.user_id)
    session.add(row)
    await session.flush()
    audit.record(session, "account.export_requested", context=audit_ctx, principal=principal,
                 target_type="export", target_id=row.id)
    enqueue(session, BUILD_JOB, export_id=str(row.id), tenant_id=str(principal.tenant_id))
    return export_out(row, principal.user_id)


async def export_status(session: AsyncSession, principal: Principal, export_id: uuid.UUID) -> ExportOut:
    row = await repository.export(session, export_id)
    if row.requested_by != principal.user_id:
        raise AppError("NOT_FOUND", "export not found")  # another member's export is not theirs to see
    return export_out(row, principal.user_id)


async def download(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, export_id: uuid.UUID,
                   expires: int, signature: str) -> tuple[str, bytes]:
    row = await repository.export(session, export_id)
    if row.requested_by != principal.user_id:
        raise AppError("NOT_FOUND", "export not found")
    if not hmac.compare_digest(signature.encode(), _signature(row.id, principal.user_id, expires).encode()):
        raise AppError("FORBIDDEN", "The download link is not valid")
    now = utcnow()
    if row.status != "ready" or row.content is None or row.expires_at is None or now >= row.expires_at \
            or now.timestamp() >= expires:
        raise AppError("NOT_FOUND", "The export is not ready or has expired (exports are kept 24 hours)")
    audit.record(session, "account.export_downloaded", context=audit_ctx, principal=principal,
                 target_type="export", target_id=row.id, details={"size_bytes": row.size_bytes})
    return f"xinex-export-{row.created_at:%Y%m%d-%H%M%S}.zip", row.content


def _clean(value: Any, *, channel: bool = False) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if SECRET_NAME.search(str(k)) or (channel and k in CHANNEL_URL_KEYS)
                    else _clean(v, channel=channel)) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, channel=channel) for v in value]
    if isinstance(value, datetime):
        return to_rfc3339(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for column, value in row.items():
        if SECRET_NAME.search(column):
            continue
        out[column] = _clean(value, channel=table == "notification_channels" and column == "config")
    return out


async def build_export(session: AsyncSession, export_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
    """Write the zip: one JSON file per domain (its tables' rows), plus tenant.json and members.json."""
    row = await repository.export(session, export_id, lock=True)
    if row.status in ("ready", "failed"):
        return  # done by an earlier run of the job
    files: dict[str, dict[str, Any]] = {}
    for model in repository.tenant_owned_models():
        table = str(model.__tablename__)
        if table in SKIPPED_TABLES:
            continue
        domain = model.__module__.rsplit(".", 1)[-1]
        files.setdefault(domain, {})[table] = [_row(table, r) for r in await repository.rows_of(session, model,
                                                                                                 tenant_id)]
    tenant = await repository.tenant(session, tenant_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        manifest = {"tenant_id": str(tenant_id), "created_at": to_rfc3339(utcnow()), "format": 1,
                    "files": sorted(f"{d}.json" for d in files) + ["members.json", "tenant.json"],
                    "excluded": {"tables": sorted(SKIPPED_TABLES), "fields": "credentials: hashes, secrets, "
                                 "tokens, keys, authorization headers and chat-webhook URLs"}}
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        archive.writestr("tenant.json", json.dumps(_clean({"id": tenant.id, "name": tenant.name, "slug": tenant.slug,
                                                          "tier": tenant.tier, "created_at": tenant.created_at}),
                                                   indent=2))
        archive.writestr("members.json", json.dumps(_clean(await repository.members(session)), indent=2))
        for domain, tables in sorted(files.items()):
            archive.writestr(f"{domain}.json", json.dumps(tables, indent=2, default=str))
    content = buffer.getvalue()
    now = utcnow()
    row.content, row.size_bytes, row.status = content, len(content), "ready"
    row.finished_at, row.expires_at, row.updated_at = now, now + EXPORT_TTL, now


async def mark_export_failed(session: AsyncSession, export_id: uuid.UUID, reason: str) -> None:
    row = await repository.export(session, export_id, lock=True)
    if row.status != "ready":
        row.status, row.error, row.finished_at = "failed", reason[:200], utcnow()


# --- onboarding --------------------------------------------------------------------------------------

STEPS: dict[str, str] = {
    "first_check": "Create a monitor or a heartbeat",
    "notification_channel": "Add a notification channel",
    "invite_teammate": "Invite a teammate",
    "first_alert": "Receive a first alert",
    "send_telemetry": "Send telemetry (traces, logs or metrics)",
}


async def _telemetry_received(store: TimeSeriesStore | None, tenant_id: uuid.UUID) -> bool:
    if store is None:
        return False
    try:
        for table in ("spans", "logs", "metrics"):
            found = await store.query(f"SELECT 1 FROM {table} WHERE tenant_id = {{tenant_id:UUID}} LIMIT 1",
                                      {"tenant_id": tenant_id})
            if found.rows:
                return True
    except Exception:  # noqa: BLE001 - a store not reachable or not migrated yet: not received, as far as we know
        return False
    return False


async def onboarding(session: AsyncSession, tenant_id: uuid.UUID, store: TimeSeriesStore | None) -> OnboardingOut:
    derived = await repository.derived_state(session)
    derived["send_telemetry"] = await _telemetry_received(store, tenant_id)
    manual = await repository.completions(session)
    steps = []
    for key, title in STEPS.items():
        how = "derived" if derived.get(key) else ("manual" if key in manual else None)
        steps.append(OnboardingStep(key=key, title=title, done=how is not None, how=how,  # type: ignore[arg-type]
                                    completed_at=manual[key].created_at if key in manual else None))
    return OnboardingOut(steps=steps, completed=sum(s.done for s in steps), total=len(steps))


async def complete_step(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, step: str,
                        store: TimeSeriesStore | None) -> OnboardingOut:
    assert principal.tenant_id is not None
    if step not in STEPS:
        raise AppError("NOT_FOUND", f"No onboarding step {step!r}", details={"steps": list(STEPS)})
    if step not in await repository.completions(session):
        session.add(OnboardingCompletion(tenant_id=principal.tenant_id, step=step, completed_by=principal.user_id))
        await session.flush()
        audit.record(session, "onboarding.step_completed", context=audit_ctx, principal=principal,
                     target_type="onboarding_step", target_id=step)
    return await onboarding(session, principal.tenant_id, store)


# --- brand -------------------------------------------------------------------------------------------

def brand() -> BrandOut:
    s = get_settings()
    return BrandOut(name=s.brand_name, logo_url=s.brand_logo_url or None, primary_color=s.brand_primary_color,
                    accent_color=s.brand_accent_color, support_email=s.brand_support_email or None)
